/// A coordination URL that cannot be used, and why (the URL's password is never repeated).
public struct CoordinationSettingsError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String

    init(_ problem: String) { message = "the coordination URL \(problem)" }

    public var description: String { message }
}
