public import Logging

/// What a handler knows about the call it serves.
public struct ServerContext: Sendable {
    /// The full method name, e.g. "imagegen.v1.Health/Check".
    public var method: String
    /// The call's metadata (the authorization entry is removed once checked).
    public var metadata: [String: String]
    /// When the call will end with DEADLINE_EXCEEDED, if it has a timeout.
    public var deadline: ContinuousClock.Instant?
    /// The remote address, for logs.
    public var peer: String
    /// A logger carrying the call's id and method.
    public var logger: Logger

    public init(
        method: String, metadata: [String: String] = [:], deadline: ContinuousClock.Instant? = nil,
        peer: String = "", logger: Logger
    ) {
        self.method = method
        self.metadata = metadata
        self.deadline = deadline
        self.peer = peer
        self.logger = logger
    }
}
