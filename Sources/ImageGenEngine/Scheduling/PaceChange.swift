/// What a 429 did to a quota's pace (``PaceGate/rateLimited(_:startedAt:now:)``).
enum PaceChange: Equatable, Sendable {
    /// Gemini stated the limit; the pace is now `pace` (the limit, or a lower configured cap).
    case learned(limit: Double, pace: Double)
    /// A 429 without a limit: the pace is halved to `pace`, and grows back.
    case halved(pace: Double)
    /// Refused at the stated limit: every quota's starts are spaced this many percent wider from now on.
    case pushedBack(percent: Double)
}
