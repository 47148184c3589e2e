/// How a style's Batch API batches are polled and how long they may take (configuration
/// `batchPollInitialSeconds`, `batchPollMaxSeconds`, `batchDeadlineSeconds`,
/// `batchMinimumWaveSeconds`).
public struct BatchSettings: Sendable, Equatable {
    /// The first poll's delay after a create; each later one doubles it, up to `pollMax`.
    public var pollInitial: Duration
    public var pollMax: Duration
    /// A job's batches must be finished this long after the job started; a batch still running
    /// then is cancelled and its unprocessed beats go online. A job's options may override it.
    public var deadline: Duration
    /// `auto` sends a wave to batch only when at least this long per wave still needed is left
    /// before the deadline; otherwise the beats go online.
    public var minimumWaveTime: Duration
    /// At most this many request bytes (reference images included) in one inline batch; Gemini's limit is 20 MB.
    public var maxInlineBytes: Int

    public init(
        pollInitial: Duration = .seconds(10), pollMax: Duration = .seconds(120), deadline: Duration = .seconds(21_600),
        minimumWaveTime: Duration = .seconds(1_800), maxInlineBytes: Int = 19_000_000
    ) {
        self.pollInitial = pollInitial
        self.pollMax = pollMax
        self.deadline = deadline
        self.minimumWaveTime = minimumWaveTime
        self.maxInlineBytes = maxInlineBytes
    }
}
