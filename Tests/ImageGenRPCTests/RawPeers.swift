import ImageGenWire
import NIOCore
import NIOPosix
import Synchronization

/// When each of many raw peers started connecting and was closed by the server, collected across event loops.
final class PeerLog: Sendable {
    private let state = Mutex((connected: [Int: ContinuousClock.Instant](), closed: [Int: ContinuousClock.Instant](), frames: [Int: [Frame]]()))

    func connected(_ peer: Int) { state.withLock { $0.connected[peer] = .now } }
    func closed(_ peer: Int) { state.withLock { $0.closed[peer] = .now } }
    func received(_ frame: Frame, peer: Int) { state.withLock { $0.frames[peer, default: []].append(frame) } }

    var closedCount: Int { state.withLock { $0.closed.count } }
    /// For every closed peer, how long after connecting it was closed.
    var lifetimes: [Duration] {
        state.withLock { state in state.closed.compactMap { peer, end in state.connected[peer].map { end - $0 } } }
    }
    func frames(_ peer: Int) -> [Frame] { state.withLock { $0.frames[peer] ?? [] } }
    func isClosed(_ peer: Int) -> Bool { state.withLock { $0.closed[peer] != nil } }

    /// Waits until `count` peers were closed or `timeout` passed.
    func waitForClosed(_ count: Int, timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while closedCount < count, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
    }
}

/// A peer that sends a ping every `interval` until the server closes the connection, and records
/// the frames it gets.
final class PingingPeer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let id: Int
    private let log: PeerLog
    private let interval: TimeAmount
    private var timer: RepeatedTask?
    private var buffer = ByteBuffer()

    init(id: Int, log: PeerLog, interval: TimeAmount) {
        self.id = id
        self.log = log
        self.interval = interval
    }

    func channelActive(context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        let ping = Frame(callID: 0, kind: .ping(nonce: UInt64(id))).framedBytes()
        timer = context.eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: interval) { _ in
            let context = loopBound.value
            context.writeAndFlush(NIOAny(ByteBuffer(bytes: ping)), promise: nil)
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        buffer.writeBuffer(&incoming)
        while let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self), buffer.readableBytes >= 4 + Int(length) {
            buffer.moveReaderIndex(forwardBy: 4)
            if let bytes = buffer.readBytes(length: Int(length)), let frame = try? Frame(serializedBytes: bytes) {
                log.received(frame, peer: id)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        log.closed(id)
        context.fireChannelInactive()
    }

    /// Connects `count` pinging peers to 127.0.0.1:`port`, `batch` at a time; returns their channels.
    static func connect(count: Int, port: Int, log: PeerLog, interval: TimeAmount = .seconds(1)) async throws -> [any Channel] {
        var channels: [any Channel] = []
        let batch = 50
        for start in stride(from: 0, to: count, by: batch) {
            try await withThrowingTaskGroup(of: (any Channel).self) { group in
                for id in start..<min(count, start + batch) {
                    group.addTask {
                        // Before connecting: the server's clock for the peer can only start later.
                        log.connected(id)
                        return try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                            .channelInitializer { channel in
                                channel.eventLoop.makeCompletedFuture {
                                    try channel.pipeline.syncOperations.addHandler(PingingPeer(id: id, log: log, interval: interval))
                                }
                            }
                            .connect(host: "127.0.0.1", port: port).get()
                    }
                }
                for try await channel in group { channels.append(channel) }
            }
        }
        return channels
    }
}

/// A peer that sends bytes and never reads what it is sent: its receive window closes, and the
/// server's bytes for it pile up.
enum NonReadingPeer {
    /// Connects with reading off and a small receive buffer, and returns the channel. Write to it
    /// without waiting: once the server stops reading, such a write never completes.
    static func connect(port: Int, log: PeerLog, id: Int = 0) async throws -> any Channel {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.autoRead, value: false)
            .channelOption(.socketOption(.so_rcvbuf), value: 4096)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(CloseRecorder(id: id, log: log))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        log.connected(id)
        return channel
    }

    /// Records when the connection closes.
    final class CloseRecorder: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let id: Int
        let log: PeerLog
        init(id: Int, log: PeerLog) {
            self.id = id
            self.log = log
        }
        func channelInactive(context: ChannelHandlerContext) {
            log.closed(id)
            context.fireChannelInactive()
        }
    }
}
