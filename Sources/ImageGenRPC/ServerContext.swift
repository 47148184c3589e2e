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
    /// Whether an answer can still reach the peer (false once its connection is closed, even
    /// before the call's task learns of it: a busy server may not get to cancel it for a while).
    public var isPeerConnected: @Sendable () -> Bool

    public init(
        method: String, metadata: [String: String] = [:], deadline: ContinuousClock.Instant? = nil,
        peer: String = "", logger: Logger, isPeerConnected: @escaping @Sendable () -> Bool = { true }
    ) {
        self.method = method
        self.metadata = metadata
        self.deadline = deadline
        self.peer = peer
        self.logger = logger
        self.isPeerConnected = isPeerConnected
    }

    /// Throws CANCELLED when the call is cancelled or its peer is gone: no answer could reach it.
    public func checkDeliverable() throws(RPCError) {
        guard !Task.isCancelled, isPeerConnected() else { throw RPCError(.cancelled, "call cancelled: its connection is closed") }
    }
}
