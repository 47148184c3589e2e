/// Per-job choices.
public struct JobOptions: Sendable, Equatable {
    /// Render only these styles (by name); nil means every configured style.
    public var styles: [String]?
    /// Regenerate every beat, even those already done with the same inputs.
    public var force: Bool
    /// At most this many requests in flight across all styles; overrides the configuration's cap.
    public var maxConcurrentRequests: Int?

    public init(styles: [String]? = nil, force: Bool = false, maxConcurrentRequests: Int? = nil) {
        self.styles = styles
        self.force = force
        self.maxConcurrentRequests = maxConcurrentRequests
    }
}
