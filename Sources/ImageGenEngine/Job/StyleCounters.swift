/// One style's counters at a moment.
public struct StyleCounters: Sendable, Equatable {
    public var style: String
    /// Beats in the storyboard.
    public var total: Int
    /// Done in this job or skipped as already done.
    public var completed: Int
    public var failed: Int
    public var inFlight: Int
    /// completed / total × 100.
    public var percent: Double
    public var keysTotal: Int
    public var keysCooling: Int
    public var keysDisabled: Int
    /// Beats waiting in Batch API batches.
    public var inBatch: Int
    /// The style's current batch wave, while one is out.
    public var batch: BatchProgress?

    public init(
        style: String, total: Int = 0, completed: Int = 0, failed: Int = 0, inFlight: Int = 0, percent: Double = 0,
        keysTotal: Int = 0, keysCooling: Int = 0, keysDisabled: Int = 0, inBatch: Int = 0, batch: BatchProgress? = nil
    ) {
        self.style = style
        self.total = total
        self.completed = completed
        self.failed = failed
        self.inFlight = inFlight
        self.percent = percent
        self.keysTotal = keysTotal
        self.keysCooling = keysCooling
        self.keysDisabled = keysDisabled
        self.inBatch = inBatch
        self.batch = batch
    }
}
