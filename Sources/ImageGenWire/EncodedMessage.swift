/// A response message encoded once, to be sent on any number of calls.
///
/// protobuf-c packs the message, then `Frame{message: <those bytes>}`. A call's frame is its
/// ``Frame/callIDField(_:)`` followed by these bytes: protobuf encodes a message's fields one after
/// another, in field order, so the two parts together are exactly what protobuf-c packs for
/// `Frame{call_id, message}`. One progress event is thus encoded once for every watcher of a job.
public struct EncodedMessage<Message: WireMessage>: Sendable, Equatable {
    /// `Frame{message: <the message>}` as protobuf-c packs it: the part of a response frame that is
    /// the same on every call.
    public let frameField: [UInt8]

    /// Encodes `message` with protobuf-c.
    public init(_ message: Message) {
        self.frameField = Frame(callID: 0, kind: .message(message.serializedBytes())).serializedBytes()
    }

    /// Decodes the message again (for tests and diagnostics; senders use `frameField`).
    public func decoded(limits: DecodeLimits = .default) throws -> Message {
        guard case .message(let bytes)? = try Frame(serializedBytes: frameField, limits: limits).kind else {
            throw WireError(.malformed, "an encoded message holds no message field")
        }
        return try Message(serializedBytes: bytes, limits: limits)
    }
}

extension Frame {
    /// `Frame{call_id: callID}` as protobuf-c packs it: the part of a response frame that names its
    /// call, followed on the wire by an ``EncodedMessage/frameField``.
    public static func callIDField(_ callID: UInt64) -> [UInt8] {
        Frame(callID: callID, kind: nil).serializedBytes()
    }
}
