public import ImageGenWire

/// Sends the messages of a server-streaming call. Writing after the call ended (cancelled, deadline,
/// connection gone) throws, so a handler that loops on `send` stops by itself.
public struct ResponseStreamWriter<Response: WireMessage>: Sendable {
    let sink: CallSink

    /// Sends one message; suspends while the connection's send buffer is full.
    public func send(_ message: Response) async throws {
        try await sink.send(message.serializedBytes())
    }

    /// Sends several messages with one write and one flush; suspends while the send buffer is full.
    public func send(contentsOf messages: [Response]) async throws {
        try await sink.sendBatch(messages.map { $0.serializedBytes() })
    }
}

/// Where a call's response messages go: the transport side of one call.
struct CallSink: Sendable {
    let sendBytes: @Sendable ([UInt8]) async throws -> Void
    let sendBatch: @Sendable ([[UInt8]]) async throws -> Void

    func send(_ bytes: [UInt8]) async throws {
        try await sendBytes(bytes)
    }
}
