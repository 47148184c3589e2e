import Foundation
import ImageGenRPC
import ImageGenInterop
import ImageGenTestSupport
import ImageGenWire
import Logging
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// Runs an in-process server on 127.0.0.1 with a free port for the duration of `body`.
func withServer<R: Sendable>(
    _ configuration: RPCServerConfiguration = RPCServerConfiguration(),
    router: RPCRouter = TestService.router(),
    _ body: (RPCServer, Int) async throws -> R
) async throws -> R {
    var logger = Logger(label: "test-server")
    logger.logLevel = .critical
    let server = RPCServer(configuration: configuration, router: router, logger: logger)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await server.run() }
        let port = try await server.listeningAddress.port
        do {
            let result = try await body(server, port)
            group.cancelAll()
            return result
        } catch {
            group.cancelAll()
            throw error
        }
    }
}

/// Connects a client, runs `body`, closes the client.
@discardableResult
func withClient<R: Sendable>(port: Int, token: String? = nil, _ body: (RPCClient) async throws -> R) async throws -> R {
    let client = try await RPCClient.connect(host: "127.0.0.1", port: port, token: token)
    defer { client.close() }
    return try await body(client)
}

/// Asserts that `body` throws an `RPCError` with `code`, and returns it.
@discardableResult
func expectRPCError(
    _ code: RPCError.Code, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void
) async -> RPCError? {
    do {
        try await body()
        Issue.record("expected \(code), the call succeeded", sourceLocation: sourceLocation)
        return nil
    } catch let error as RPCError {
        #expect(error.code == code, "got \(error)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected RPCError \(code), got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// The health check every test uses to prove a server still answers.
func expectHealthy(port: Int, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    try await withClient(port: port) { client in
        let response = try await client.unary(
            RPCServer.healthCheckMethod, HealthCheckRequest(), as: HealthCheckResponse.self, timeout: .seconds(5))
        #expect(response.status == .serving, sourceLocation: sourceLocation)
    }
}

/// A raw TCP connection that sends arbitrary bytes and reads frames, for protocol tests.
/// A reader task collects whatever the peer sends; the read methods poll what it collected.
final class RawConnection: Sendable {
    private let channel: any Channel
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private let received = Mutex((bytes: [UInt8](), closed: false))

    private init(channel: any Channel, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) {
        self.channel = channel
        self.outbound = outbound
    }

    /// Connects to 127.0.0.1:`port` for the duration of `body`.
    static func with<R: Sendable>(port: Int, _ body: (RawConnection) async throws -> R) async throws -> R {
        let asyncChannel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await asyncChannel.executeThenClose { inbound, outbound in
            let connection = RawConnection(channel: asyncChannel.channel, outbound: outbound)
            return try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    do {
                        for try await var buffer in inbound {
                            let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
                            connection.received.withLock { $0.bytes += bytes }
                        }
                    } catch {}
                    connection.received.withLock { $0.closed = true }
                }
                defer { group.cancelAll() }
                return try await body(connection)
            }
        }
    }

    func send(_ bytes: [UInt8]) async throws {
        try await outbound.write(ByteBuffer(bytes: bytes))
    }

    func send(_ frame: Frame) async throws {
        try await send(frame.framedBytes())
    }

    func close() {
        channel.close(promise: nil)
    }

    /// True once the peer closed the connection.
    var isClosed: Bool { received.withLock { $0.closed } }

    /// The frames the peer sent until it closed the connection, or until `timeout`;
    /// `closed` tells whether it closed.
    func readUntilClosed(timeout: Duration = .seconds(10)) async throws -> (frames: [Frame], closed: Bool) {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline, !received.withLock({ $0.closed }) {
            try await Task.sleep(for: .milliseconds(10))
        }
        let (bytes, closed) = received.withLock { ($0.bytes, $0.closed) }
        return (try FrameSplitting.frames(in: bytes), closed)
    }

    /// The frames received once `count` have arrived, the peer closed, or `timeout` passed.
    func readFrames(_ count: Int, timeout: Duration = .seconds(10)) async throws -> [Frame] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let (bytes, closed) = received.withLock { ($0.bytes, $0.closed) }
            let frames = try FrameSplitting.frames(in: bytes)
            if frames.count >= count || closed || ContinuousClock.now >= deadline { return frames }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}

/// Runs a TCP peer on loopback that closes every connection as soon as it receives bytes.
func withClosingPeer<R: Sendable>(_ body: (Int) async throws -> R) async throws -> R {
    try await withLoopbackPeer(closingOnRead: true, body)
}

/// Runs a TCP peer on loopback that accepts connections and never sends a byte.
func withSilentPeer<R: Sendable>(_ body: (Int) async throws -> R) async throws -> R {
    try await withLoopbackPeer(closingOnRead: false, body)
}

/// A TCP peer on loopback for the duration of `body`, given its port. It uses NIO's future-based
/// bootstrap: no accepted connection is wrapped in a NIOAsyncChannel that a cancelled accept loop
/// could leave unfinished.
private func withLoopbackPeer<R: Sendable>(closingOnRead: Bool, _ body: (Int) async throws -> R) async throws -> R {
    let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .childChannelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                if closingOnRead { try channel.pipeline.syncOperations.addHandler(CloseOnRead()) }
            }
        }
        .bind(host: "127.0.0.1", port: 0).get()
    let port = server.localAddress!.port!
    do {
        let result = try await body(port)
        try? await server.close().get()
        return result
    } catch {
        try? await server.close().get()
        throw error
    }
}

/// Closes its connection on the first bytes it receives.
private final class CloseOnRead: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.close(promise: nil)
    }
}
