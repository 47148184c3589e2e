public import ImageGenWire

/// Sends the messages of a server-streaming call. Writing after the call ended (cancelled, deadline,
/// connection gone) throws, so a handler that loops on `send` stops by itself.
public struct ResponseStreamWriter<Response: WireMessage>: Sendable {
    let sink: CallSink

    /// Sends one message; suspends while the connection's send buffer is full.
    public func send(_ message: Response) async throws {
        try await sink.send([EncodedMessage(message).frameField])
    }

    /// Sends messages encoded beforehand (e.g. once for every watcher of a job) with one write and
    /// one flush; suspends while the send buffer is full.
    public func send(contentsOf messages: [EncodedMessage<Response>]) async throws {
        try await sink.send(messages.map(\.frameField))
    }
}

/// Where a call's response messages go: the transport side of one call. It takes each message as
/// its ``EncodedMessage/frameField`` and sends them all with one write.
struct CallSink: Sendable {
    let send: @Sendable (_ frameFields: [[UInt8]]) async throws -> Void
}
