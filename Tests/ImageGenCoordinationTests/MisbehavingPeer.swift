import NIOCore
import NIOPosix
import Synchronization

/// A TCP listener on loopback that is not PostgreSQL: it accepts every connection and then says
/// nothing, answers bytes that are not the protocol, or closes at once. Counts what it accepted,
/// and how many of those the other side has closed.
final class MisbehavingPeer: Sendable {
    enum Behaviour: String, CaseIterable, Sendable {
        /// Accepts and never writes (a host whose database process hangs, a black-holed proxy).
        case silent
        /// Answers an HTTP error page (a web server on the database's port).
        case http
        /// Closes each connection as soon as it is accepted.
        case closes
    }

    private let channel: any Channel
    private let counts: Counts

    var port: Int { channel.localAddress?.port ?? 0 }
    var accepted: Int { counts.accepted.load(ordering: .relaxed) }
    var closedByClient: Int { counts.closedByClient.load(ordering: .relaxed) }

    private final class Counts: Sendable {
        let accepted = Atomic<Int>(0)
        let closedByClient = Atomic<Int>(0)
    }

    init(_ behaviour: Behaviour) async throws {
        let counts = Counts()
        self.counts = counts
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                counts.accepted.add(1, ordering: .relaxed)
                return child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(Handler(behaviour: behaviour, counts: counts))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    func close() async {
        try? await channel.close()
    }

    private final class Handler: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let behaviour: Behaviour
        let counts: Counts

        init(behaviour: Behaviour, counts: Counts) {
            self.behaviour = behaviour
            self.counts = counts
        }

        func channelActive(context: ChannelHandlerContext) {
            if behaviour == .closes { context.close(promise: nil) }
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard behaviour == .http else { return }
            let page = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n"
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: page)), promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            if behaviour != .closes { counts.closedByClient.add(1, ordering: .relaxed) }
        }
    }
}
