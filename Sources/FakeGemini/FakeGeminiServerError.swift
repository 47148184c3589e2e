/// A failure of the fake server's own life cycle.
public struct FakeGeminiServerError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public var message: String
    /// The message.
    public var description: String { message }
}
