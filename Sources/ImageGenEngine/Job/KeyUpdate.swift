/// A key's state change. Keys are named by label only.
public struct KeyUpdate: Sendable, Equatable {
    /// What happened to the key.
    public enum State: String, Sendable, Equatable {
        /// Its project hit a rate limit; no requests for `duration`.
        case cooling
        /// Its project's daily quota is spent; set aside for the rest of the job.
        case exhausted
        /// The key was rejected; disabled for the job.
        case disabled
        /// Usable again after cooling.
        case ready
    }

    public var style: String
    public var keyLabel: String
    public var project: String
    public var state: State
    public var duration: Duration?
    public var reason: String

    public init(style: String, keyLabel: String, project: String, state: State, duration: Duration? = nil, reason: String) {
        self.style = style
        self.keyLabel = keyLabel
        self.project = project
        self.state = state
        self.duration = duration
        self.reason = reason
    }
}
