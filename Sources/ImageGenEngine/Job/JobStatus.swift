/// A snapshot of a running (or finished) job, from ``ImageJob/status()``.
public struct JobStatus: Sendable, Equatable {
    public var state: JobState
    /// Whether dispatching is paused.
    public var paused: Bool
    /// One entry per style, in configuration order.
    public var styles: [StyleProgress]

    public init(state: JobState, paused: Bool, styles: [StyleProgress]) {
        self.state = state
        self.paused = paused
        self.styles = styles
    }
}
