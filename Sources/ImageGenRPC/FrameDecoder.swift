import ImageGenWire
import NIOCore

/// Reads length-prefixed frames. The length is checked against the limit as soon as its 4 bytes
/// arrive, before the frame is buffered, and a frame must arrive whole within `frameTimeout` of its
/// first byte. On a protocol error it either tells the peer (server side: one `Frame{call_id: 0,
/// status}`) or raises the error (client side), then closes the connection.
final class FrameDecoderHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = Frame
    typealias OutboundOut = OutboundFrames

    /// What to do with a protocol error.
    enum ErrorPolicy { case tellPeerAndClose, raiseAndClose }

    private let maxFrameBytes: Int
    private let decodeLimits: DecodeLimits
    private let frameTimeout: TimeAmount
    private let policy: ErrorPolicy
    /// The server-wide budget the bytes of incomplete frames count against; nil on the client side.
    private let budget: BufferBudget?
    /// Bytes of `buffer` taken from `budget`.
    private(set) var reserved = 0
    private var buffer: ByteBuffer?
    private var frameTimer: Scheduled<Void>?
    /// When the first byte of the frame still incomplete in `buffer` arrived; nil when none is.
    private var partialFrameSince: NIODeadline?
    private var failed = false

    init(
        maxFrameBytes: Int, decodeLimits: DecodeLimits, frameTimeout: Duration, policy: ErrorPolicy,
        budget: BufferBudget? = nil
    ) {
        self.maxFrameBytes = maxFrameBytes
        self.decodeLimits = decodeLimits
        self.frameTimeout = .milliseconds(frameTimeout.milliseconds)
        self.policy = policy
        self.budget = budget
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        var incoming = unwrapInboundIn(data)
        if buffer == nil {
            buffer = incoming
        } else {
            buffer!.writeBuffer(&incoming)
        }
        drain(context: context)
        account(context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        frameTimer?.cancel()
        frameTimer = nil
        partialFrameSince = nil
        buffer = nil
        account(context: context)
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        frameTimer?.cancel()
        frameTimer = nil
        buffer = nil
        budget?.release(reserved)
        reserved = 0
    }

    /// Makes the bytes taken from the budget match the bytes buffered; when more do not fit, the
    /// connection is refused (RESOURCE_EXHAUSTED) and its buffer dropped.
    private func account(context: ChannelHandlerContext) {
        guard let budget else { return }
        let buffered = buffer?.readableBytes ?? 0
        if buffered < reserved {
            budget.release(reserved - buffered)
            reserved = buffered
        } else if buffered > reserved {
            if budget.reserve(buffered - reserved) {
                reserved = buffered
            } else {
                fail(
                    context: context,
                    error: RPCError(
                        .resourceExhausted,
                        "the server is holding all the bytes it may for its clients (\(budget.limit) bytes): try again later"))
            }
        }
    }

    private func drain(context: ChannelHandlerContext) {
        while !failed, let readable = buffer?.readableBytes, readable >= FrameHeader.size {
            let length = buffer!.getInteger(at: buffer!.readerIndex, endianness: .big, as: UInt32.self)!
            do {
                try FrameHeader.validate(length: length, maxFrameBytes: maxFrameBytes)
            } catch let error as WireError {
                fail(context: context, error: Self.connectionError(error))
                return
            } catch {
                return
            }
            guard readable >= FrameHeader.size + Int(length) else { break }
            buffer!.moveReaderIndex(forwardBy: FrameHeader.size)
            let bytes = buffer!.readBytes(length: Int(length))!
            partialFrameSince = nil
            let frame: Frame
            do {
                frame = try Frame(serializedBytes: bytes, limits: decodeLimits)
            } catch let error as WireError {
                fail(context: context, error: Self.connectionError(error))
                return
            } catch {
                return
            }
            context.fireChannelRead(wrapInboundOut(frame))
        }
        if let readable = buffer?.readableBytes {
            if readable == 0 {
                buffer = nil
            } else {
                buffer!.discardReadBytes()
            }
        }
        if (buffer?.readableBytes ?? 0) > 0, partialFrameSince == nil {
            partialFrameSince = .now()
            armFrameTimer(context: context)
        }
    }

    /// Makes sure a timer will check the partial frame when its time is up. The timer is not moved
    /// when frames complete (a busy stream completes thousands a second); it re-arms itself for the
    /// frame partial when it fires, and does nothing when none is.
    private func armFrameTimer(context: ChannelHandlerContext) {
        guard frameTimer == nil, let since = partialFrameSince else { return }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        frameTimer = context.eventLoop.scheduleTask(deadline: since + frameTimeout) {
            let (handler, context) = loopBound.value
            handler.frameTimer = nil
            handler.frameTimerFired(context: context)
        }
    }

    private func frameTimerFired(context: ChannelHandlerContext) {
        guard !failed, let since = partialFrameSince else { return }
        if NIODeadline.now() >= since + frameTimeout {
            fail(
                context: context,
                error: RPCError(
                    .deadlineExceeded,
                    "a frame did not arrive whole within \(frameTimeout.nanoseconds / 1_000_000) ms of its first byte"))
        } else {
            armFrameTimer(context: context)
        }
    }

    private func fail(context: ChannelHandlerContext, error: RPCError) {
        guard !failed else { return }
        failed = true
        buffer = nil
        budget?.release(reserved)
        reserved = 0
        frameTimer?.cancel()
        frameTimer = nil
        switch policy {
        case .tellPeerAndClose:
            let status = Frame(callID: 0, kind: .status(CallStatus(code: error.code.rawValue, message: error.message)))
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.writeAndFlush(wrapOutboundOut(.frame(status))).whenComplete { _ in
                loopBound.value.close(promise: nil)
            }
        case .raiseAndClose:
            context.fireErrorCaught(error)
            context.close(promise: nil)
        }
    }

    static func connectionError(_ error: WireError) -> RPCError {
        switch error.code {
        case .frameTooLarge, .budgetExceeded: return RPCError(.resourceExhausted, error.message)
        default: return RPCError(.invalidArgument, "protocol error: \(error.message)")
        }
    }
}
