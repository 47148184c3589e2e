/// A style's final account.
public struct StyleReport: Sendable, Equatable {
    public var style: String
    /// "gemini", "offline" or a test double's name.
    public var provider: String
    public var state: JobOutcome
    public var total: Int
    /// Generated in this job.
    public var done: Int
    public var failed: Int
    /// Already done by an earlier run.
    public var skipped: Int
    public var duration: Duration
    public var spend: SpendCounters
    /// Why the style failed as a whole, if it did.
    public var error: String?

    public init(
        style: String, provider: String, state: JobOutcome, total: Int, done: Int, failed: Int, skipped: Int,
        duration: Duration, spend: SpendCounters, error: String? = nil
    ) {
        self.style = style
        self.provider = provider
        self.state = state
        self.total = total
        self.done = done
        self.failed = failed
        self.skipped = skipped
        self.duration = duration
        self.spend = spend
        self.error = error
    }
}
