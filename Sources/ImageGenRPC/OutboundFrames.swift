import ImageGenWire

/// What a connection writes: one frame, or response messages of one call put together from parts
/// encoded beforehand (the call's `Frame{call_id}` and each message's `Frame{message}`), so a
/// message sent to many calls is encoded once and only copied per call.
enum OutboundFrames: Sendable {
    case frame(Frame)
    case messages(callIDField: [UInt8], frameFields: [[UInt8]])
}
