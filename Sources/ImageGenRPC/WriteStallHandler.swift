import ImageGenWire
import Logging
import NIOCore

/// Sits next to the socket on a server connection. Every byte written to the peer counts against
/// the server's ``BufferBudget`` until the socket has taken it, and a peer that takes no byte for
/// `stallTimeout` while the server has bytes for it is closed: a client that never reads cannot
/// hold its connection, its calls' slots and their buffers forever.
final class WriteStallHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let budget: BufferBudget
    private let stallTimeout: TimeAmount
    private let stallMilliseconds: Int64
    private let logger: Logger
    /// Bytes passed to the channel since the connection opened.
    private var written = 0
    /// Of those, bytes the socket had taken at the last check.
    private var acceptedAtLastCheck = 0
    /// When the socket last took bytes, or last had none waiting.
    private var lastProgress = NIODeadline.now()
    private var timer: RepeatedTask?

    init(budget: BufferBudget, stallTimeout: Duration, logger: Logger) {
        self.budget = budget
        self.stallMilliseconds = stallTimeout.wholeMilliseconds
        self.stallTimeout = .milliseconds(stallMilliseconds)
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { startTimer(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        startTimer(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        stopTimer()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stopTimer()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let bytes = unwrapOutboundIn(data).readableBytes
        written += bytes
        budget.force(bytes)
        // The bytes leave the budget when the socket took them, or when the write failed.
        let promise = promise ?? context.eventLoop.makePromise()
        let budget = self.budget
        promise.futureResult.whenComplete { _ in budget.release(bytes) }
        context.write(data, promise: promise)
    }

    private func startTimer(context: ChannelHandlerContext) {
        guard timer == nil else { return }
        lastProgress = .now()
        let interval = TimeAmount.nanoseconds(max(1_000_000, min(stallTimeout.nanoseconds / 4, 1_000_000_000)))
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            let (handler, context) = loopBound.value
            handler.check(context: context)
        }
    }

    private func stopTimer() {
        timer?.cancel()
        timer = nil
    }

    /// Notes whether the socket took bytes since the last check; closes a stalled peer.
    private func check(context: ChannelHandlerContext) {
        let waiting = (try? context.channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0
        let accepted = written - waiting
        let now = NIODeadline.now()
        if waiting == 0 || accepted > acceptedAtLastCheck {
            lastProgress = now
            acceptedAtLastCheck = accepted
            return
        }
        guard now - lastProgress >= stallTimeout else { return }
        logger.notice(
            "closing connection: the peer took no bytes for \(stallMilliseconds) ms",
            metadata: ["waiting_bytes": "\(waiting)"])
        stopTimer()
        context.close(promise: nil)
    }
}
