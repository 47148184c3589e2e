/// The job's final account.
public struct JobSummary: Sendable, Equatable {
    public var state: JobState
    public var styles: [StyleSummary]
    public var duration: Duration

    public init(state: JobState, styles: [StyleSummary], duration: Duration) {
        self.state = state
        self.styles = styles
        self.duration = duration
    }
}
