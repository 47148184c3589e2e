/// A key's state change. Keys are named by label only; the quota they spend by project and model.
public struct KeyUpdate: Sendable, Equatable {
    /// What happened to the key.
    public enum State: String, Sendable, Equatable {
        /// Its quota (project and model) hit a rate limit; no requests for `duration`.
        case cooling
        /// Its quota's (project and model) daily quota is spent; set aside for the rest of the job.
        case exhausted
        /// The key was rejected; disabled for the job.
        case disabled
        /// Usable again after cooling.
        case ready
    }

    public var style: String
    public var keyLabel: String
    public var project: String
    /// The style's model: with `project`, the quota the key spends.
    public var model: String
    public var state: State
    public var duration: Duration?
    public var reason: String

    public init(
        style: String, keyLabel: String, project: String, model: String, state: State, duration: Duration? = nil,
        reason: String
    ) {
        self.style = style
        self.keyLabel = keyLabel
        self.project = project
        self.model = model
        self.state = state
        self.duration = duration
        self.reason = reason
    }

    /// The quota the key spends: its project and the style's model.
    public var quota: QuotaID { QuotaID(project: project, model: model) }
}
