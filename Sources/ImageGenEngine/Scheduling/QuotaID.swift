/// What one Gemini quota belongs to: a Google Cloud project and a model (Gemini's limits are
/// "…PerProjectPerModel…"). Pace gates, in-flight caps, 429 cool-downs and spent daily quotas are
/// all kept per quota identity, so two styles with different models on one project do not slow
/// each other down, and one model's spent daily quota does not park the others.
public struct QuotaID: Hashable, Sendable, CustomStringConvertible {
    /// The Google Cloud project, e.g. "film-a".
    public var project: String
    /// The model, e.g. "gemini-3.1-flash-image".
    public var model: String

    public init(project: String, model: String) {
        self.project = project
        self.model = model
    }

    /// Whether the project is a stand-in ("clear#2": a key configured without its project), which
    /// names a position in a key list, not a project: what is learned of it is not kept across runs.
    public var hasImplicitProject: Bool { project.contains("#") }

    /// "project film-a, gemini-3.1-flash-image".
    public var description: String { "project \(project), \(model)" }
}
