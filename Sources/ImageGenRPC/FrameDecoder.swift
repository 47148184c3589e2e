import ImageGenWire
import NIOCore

/// Reads length-prefixed frames, as a NIO `ByteToMessageDecoder` (add it wrapped in a
/// `ByteToMessageHandler`). The length is checked against the limit as soon as its 4 bytes
/// arrive, before the frame is buffered, and a frame must arrive whole within `frameTimeout` of its
/// first byte. A bad length, a frame that does not decode, or bytes over the server's budget throw
/// an ``RPCError`` (the handler passes it on with `fireErrorCaught`); a frame that does not arrive
/// in time is passed on the same way. What follows is dropped: the next handler closes the
/// connection (the server's ``ConnectionErrorResponder`` first tells the peer).
final class FrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = Frame

    private let maxFrameBytes: Int
    private let decodeLimits: DecodeLimits
    private let frameTimeout: TimeAmount
    private let frameTimeoutMilliseconds: Int64
    /// The server-wide budget the bytes of incomplete frames count against; nil on the client side.
    private let budget: BufferBudget?
    /// Bytes of the handler's buffer taken from `budget`.
    private(set) var reserved = 0
    private var frameTimer: Scheduled<Void>?
    /// When the first byte of the frame still incomplete in the buffer arrived; nil when none is.
    private var partialFrameSince: NIODeadline?
    private var failed = false

    init(maxFrameBytes: Int, decodeLimits: DecodeLimits, frameTimeout: Duration, budget: BufferBudget? = nil) {
        self.maxFrameBytes = maxFrameBytes
        self.decodeLimits = decodeLimits
        self.frameTimeoutMilliseconds = frameTimeout.wholeMilliseconds
        self.frameTimeout = .milliseconds(frameTimeoutMilliseconds)
        self.budget = budget
    }

    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard !failed else {
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return .needMoreData
        }
        guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt32.self) else {
            return try needMoreData(context: context, buffered: buffer.readableBytes)
        }
        do {
            try FrameHeader.validate(length: length, maxFrameBytes: maxFrameBytes)
        } catch {
            throw failure(Self.connectionError(error))
        }
        guard buffer.readableBytes >= FrameHeader.size + Int(length) else {
            return try needMoreData(context: context, buffered: buffer.readableBytes)
        }
        buffer.moveReaderIndex(forwardBy: FrameHeader.size)
        let bytes = buffer.readBytes(length: Int(length))!
        partialFrameSince = nil
        let frame: Frame
        do {
            frame = try Frame(serializedBytes: bytes, limits: decodeLimits)
        } catch {
            throw failure(Self.connectionError(error))
        }
        // Only ever gives bytes back here: what stays is accounted when more data is needed.
        if buffer.readableBytes < reserved { account(buffered: buffer.readableBytes) }
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }

    /// At the end of the input (or when the handler goes) an incomplete frame is dropped.
    func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        buffer.moveReaderIndex(to: buffer.writerIndex)
        stop()
        return .needMoreData
    }

    func decoderRemoved(context: ChannelHandlerContext) {
        stop()
    }

    /// Starts the frame timer for a new partial frame and makes the budget match `buffered`; throws
    /// RESOURCE_EXHAUSTED when more bytes do not fit.
    private func needMoreData(context: ChannelHandlerContext, buffered: Int) throws -> DecodingState {
        if buffered > 0, partialFrameSince == nil {
            partialFrameSince = .now()
            armFrameTimer(context: context)
        }
        if !account(buffered: buffered), let budget {
            throw failure(
                RPCError(
                    .resourceExhausted,
                    "the server is holding all the bytes it may for its clients (\(budget.limit) bytes): try again later"))
        }
        return .needMoreData
    }

    /// Makes the bytes taken from the budget match the bytes buffered; false when more do not fit.
    @discardableResult
    private func account(buffered: Int) -> Bool {
        guard let budget else { return true }
        if buffered < reserved {
            budget.release(reserved - buffered)
            reserved = buffered
        } else if buffered > reserved {
            guard budget.reserve(buffered - reserved) else { return false }
            reserved = buffered
        }
        return true
    }

    /// Makes sure a timer will check the partial frame when its time is up. The timer is not moved
    /// when frames complete (a busy stream completes thousands a second); it re-arms itself for the
    /// frame partial when it fires, and does nothing when none is.
    private func armFrameTimer(context: ChannelHandlerContext) {
        guard frameTimer == nil, let since = partialFrameSince else { return }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        frameTimer = context.eventLoop.scheduleTask(deadline: since + frameTimeout) {
            let (decoder, context) = loopBound.value
            decoder.frameTimer = nil
            decoder.frameTimerFired(context: context)
        }
    }

    private func frameTimerFired(context: ChannelHandlerContext) {
        guard !failed, let since = partialFrameSince else { return }
        if NIODeadline.now() >= since + frameTimeout {
            context.fireErrorCaught(
                failure(
                    RPCError(
                        .deadlineExceeded, "a frame did not arrive whole within \(frameTimeoutMilliseconds) ms of its first byte")))
        } else {
            armFrameTimer(context: context)
        }
    }

    /// Marks the decoder failed (it drops all input from now on) and gives its bytes back.
    private func failure(_ error: RPCError) -> RPCError {
        failed = true
        stop()
        return error
    }

    private func stop() {
        frameTimer?.cancel()
        frameTimer = nil
        partialFrameSince = nil
        budget?.release(reserved)
        reserved = 0
    }

    /// The status a decode failure closes the connection with, its cause kept.
    static func connectionError(_ error: any Error) -> RPCError {
        guard let error = error as? WireError else {
            return RPCError(.invalidArgument, "protocol error: \(error)", cause: error)
        }
        switch error.code {
        case .frameTooLarge, .budgetExceeded: return RPCError(.resourceExhausted, error.message, cause: error)
        default: return RPCError(.invalidArgument, "protocol error: \(error.message)", cause: error)
        }
    }
}
