/// The job's final account.
public struct JobSummary: Sendable, Equatable {
    public var state: JobOutcome
    public var styles: [StyleReport]
    public var duration: Duration

    public init(state: JobOutcome, styles: [StyleReport], duration: Duration) {
        self.state = state
        self.styles = styles
        self.duration = duration
    }
}
