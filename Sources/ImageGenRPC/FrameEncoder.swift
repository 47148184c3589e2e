import ImageGenWire
import NIOCore

/// Writes frames, each as its 4-byte big-endian length and the serialized frame. Frames written
/// between two flushes are gathered into one buffer, so a batch of a stream's messages costs the
/// channel one write, not one per frame.
final class FrameEncoder: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = OutboundFrames
    typealias OutboundOut = ByteBuffer

    /// The frames written since the last flush, encoded.
    private var pending: ByteBuffer?
    /// Completes when `pending` has been written; later writes' promises are chained to it.
    private var pendingPromise: EventLoopPromise<Void>?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var buffer = pending ?? context.channel.allocator.buffer(capacity: 256)
        pending = nil  // keeps `buffer` uniquely referenced while it grows
        switch unwrapOutboundIn(data) {
        case .frame(let frame):
            Self.append(head: [], body: Self.bounded(frame).serializedBytes(), to: &buffer)
        case .messages(let callIDField, let frameFields):
            for field in frameFields { Self.append(head: callIDField, body: field, to: &buffer) }
        }
        pending = buffer
        if let promise {
            if let pendingPromise {
                pendingPromise.futureResult.cascade(to: promise)
            } else {
                pendingPromise = promise
            }
        }
    }

    /// `frame`, with a status message cut to ``RPCError/maxMessageBytes``: every status sent passes here.
    static func bounded(_ frame: Frame) -> Frame {
        guard case .status(var status) = frame.kind, status.message.utf8.count > RPCError.maxMessageBytes else { return frame }
        status.message = ClientText.truncated(status.message, maxBytes: RPCError.maxMessageBytes)
        return Frame(callID: frame.callID, kind: .status(status))
    }

    /// Appends one frame whose bytes are `head` then `body`: their total length, then both.
    private static func append(head: [UInt8], body: [UInt8], to buffer: inout ByteBuffer) {
        let length = head.count + body.count
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: FrameHeader.size + length) { target in
            let start = target.baseAddress!
            withUnsafeBytes(of: UInt32(length).bigEndian) { start.copyMemory(from: $0.baseAddress!, byteCount: FrameHeader.size) }
            head.withUnsafeBytes { part in
                if let source = part.baseAddress { (start + FrameHeader.size).copyMemory(from: source, byteCount: part.count) }
            }
            body.withUnsafeBytes { part in
                if let source = part.baseAddress { (start + FrameHeader.size + head.count).copyMemory(from: source, byteCount: part.count) }
            }
            return FrameHeader.size + length
        }
    }

    func flush(context: ChannelHandlerContext) {
        writePending(context: context)
        context.flush()
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        // Unflushed frames go down unflushed: the channel fails them on close, as it would have.
        writePending(context: context)
        context.close(mode: mode, promise: promise)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        writePending(context: context)
    }

    private func writePending(context: ChannelHandlerContext) {
        guard let buffer = pending else { return }
        let promise = pendingPromise
        pending = nil
        pendingPromise = nil
        context.write(wrapOutboundOut(buffer), promise: promise)
    }
}
