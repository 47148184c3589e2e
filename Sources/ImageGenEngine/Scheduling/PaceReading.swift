/// What an engine paces one quota at now, for metrics and status: the pace, where it comes from
/// (its phase: configured, slow_start, learned, recovering, unpaced), the limit Gemini stated,
/// and how much wider than the pace the starts are spaced.
public struct PaceReading: Sendable, Equatable {
    public var quota: QuotaID
    /// The pace in force, requests per minute (0: unpaced).
    public var requestsPerMinute: Double
    /// The per-minute limit a 429 stated (or that was learned before a restart), if any.
    public var learnedLimit: Double?
    /// The configured upper bound, if any.
    public var configuredLimit: Double?
    /// "configured", "slow_start", "learned", "recovering" or "unpaced".
    public var phase: String
    /// The time between two starts now, margins included.
    public var spacing: Duration
    /// The measured spread of start-to-wire delays (a late request holds the next start back by its lateness).
    public var sendDelaySpread: Duration
    /// The widening, in percent of the pace, added by refusals at the stated limit (engine-wide).
    public var pushbackPercent: Double
}
