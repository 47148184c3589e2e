/// An API key with the Google Cloud project it belongs to. Printing it (description, logs,
/// string interpolation) shows only its label, never the secret.
public struct APIKey: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The secret itself; only a provider reads it, to put it in a request header.
    public let secret: String
    /// The quota group: keys of one project share one rate limit.
    public let project: String
    /// "style#index…last4", safe to log and send to clients.
    public let label: String

    public init(secret: String, project: String, label: String) {
        self.secret = secret
        self.project = project
        self.label = label
    }

    /// Builds the standard label: style, 1-based index, last 4 characters.
    public init(secret: String, project: String?, style: String, index: Int) {
        let tail = secret.count > 8 ? String(secret.suffix(4)) : "****"
        self.init(
            secret: secret, project: project ?? "\(style)#\(index)",
            label: "\(style)#\(index)…\(tail)")
    }

    public var description: String { label }
    public var debugDescription: String { "APIKey(\(label), project: \(project))" }
}
