/// What the engine reports while a job runs, in order, as plain `Sendable` values (the service
/// layer maps them to protobuf and numbers them).
public enum EngineEvent: Sendable, Equatable {
    /// A beat changed state.
    case beat(BeatUpdate)
    /// A style's counters changed.
    case progress(StyleCounters)
    /// A key is cooling, set aside for the day, disabled, or is ready again.
    case key(KeyUpdate)
    /// A human-readable note about the job (which provider a style uses, a style failing, …).
    case message(style: String?, text: String)
    /// A style finished (completed, failed or cancelled).
    case styleFinished(StyleReport)
    /// The job finished; always the last event.
    case jobFinished(JobSummary)
}
