/// Per-job choices.
public struct JobOptions: Sendable, Equatable {
    /// Render only these styles (by name); nil means every configured style.
    public var styles: [String]?
    /// Regenerate every beat, even those already done with the same inputs.
    public var force: Bool
    /// At most this many requests in flight across all styles; overrides the configuration's cap.
    public var maxConcurrentRequests: Int?
    /// Overrides every style's delivery for this job; nil keeps each style's.
    public var delivery: Delivery?
    /// Overrides every style's batch deadline (from the job's start) for this job.
    public var batchDeadline: Duration?

    public init(
        styles: [String]? = nil, force: Bool = false, maxConcurrentRequests: Int? = nil, delivery: Delivery? = nil,
        batchDeadline: Duration? = nil
    ) {
        self.styles = styles
        self.force = force
        self.maxConcurrentRequests = maxConcurrentRequests
        self.delivery = delivery
        self.batchDeadline = batchDeadline
    }
}
