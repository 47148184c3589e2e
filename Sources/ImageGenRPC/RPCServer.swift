import ImageGenWire
public import Logging
public import NIOCore
public import NIOPosix
public import ServiceLifecycle
import Synchronization

/// The imagegen RPC server: length-prefixed protobuf-c frames over TCP with gRPC's semantics.
///
/// `run()` is the parent task of every connection and every call; a graceful shutdown (from a
/// `ServiceGroup` on SIGTERM/SIGINT, or `beginGracefulShutdown()`) sends `goaway`, refuses new calls,
/// ends streams with UNAVAILABLE, lets unary calls finish, and returns within the grace period.
///
/// ```swift
/// var router = RPCRouter()
/// MyService().register(into: &router)
/// let server = RPCServer(configuration: .init(port: 0), router: router, logger: logger)
/// let group = ServiceGroup(services: [server], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
/// try await group.run()
/// ```
public final class RPCServer: Service, Sendable {
    /// The health service's method name.
    public static let healthCheckMethod = "imagegen.v1.Health/Check"

    private struct State {
        var address: (host: String, port: Int)?
        var addressFailure: (any Error)?
        /// Tasks waiting in ``listeningAddress``, by a number of their own.
        var addressWaiters: [UInt64: CheckedContinuation<(host: String, port: Int), any Error>] = [:]
        var nextAddressWaiter: UInt64 = 0
        var serverChannel: (any Channel)?
        var connections: [ObjectIdentifier: ServerConnection] = [:]
        /// Open connections by remote IP address.
        var perAddress: [String: Int] = [:]
        var shuttingDown = false
    }

    private let configuration: RPCServerConfiguration
    private let router: RPCRouter
    private let logger: Logger
    private let eventLoopGroup: any EventLoopGroup
    private let state = Mutex(State())
    /// Bytes held for all peers: frames being received, answers not yet taken by the socket.
    private let budget: BufferBudget
    /// Finished when a graceful shutdown begins.
    private let shutdownSignal: AsyncStream<Void>
    private let shutdownSignalContinuation: AsyncStream<Void>.Continuation

    public init(
        configuration: RPCServerConfiguration, router: RPCRouter, logger: Logger,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.configuration = configuration
        self.logger = logger
        self.eventLoopGroup = eventLoopGroup
        self.budget = BufferBudget(limit: configuration.bufferBudgetBytes)
        (shutdownSignal, shutdownSignalContinuation) = AsyncStream.makeStream(of: Void.self)
        let serving = ServingFlag()
        self.serving = serving
        var router = router
        if router.route(for: Self.healthCheckMethod) == nil {
            router.registerHealth(serving: serving)
        }
        self.router = router
    }

    private let serving: ServingFlag

    /// The address the server listens on, once it does; throws if binding failed, and
    /// `CancellationError` as soon as the waiting task is cancelled.
    public var listeningAddress: (host: String, port: Int) {
        get async throws {
            let waiter = state.withLock { state in
                defer { state.nextAddressWaiter += 1 }
                return state.nextAddressWaiter
            }
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { continuation in
                    state.withLock { state in
                        if let address = state.address {
                            continuation.resume(returning: address)
                        } else if let failure = state.addressFailure {
                            continuation.resume(throwing: failure)
                        } else if Task.isCancelled {
                            // Checked under the lock the cancellation handler takes.
                            continuation.resume(throwing: CancellationError())
                        } else {
                            state.addressWaiters[waiter] = continuation
                        }
                    }
                }
            } onCancel: {
                let continuation = state.withLock { $0.addressWaiters.removeValue(forKey: waiter) }
                continuation?.resume(throwing: CancellationError())
            }
        }
    }

    /// Serves until a graceful shutdown completes or the task is cancelled.
    public func run() async throws {
        let configuration = self.configuration
        let budget = self.budget
        let logger = self.logger
        let accepted = AcceptedConnections()
        let serverChannel: NIOAsyncChannel<AcceptedConnections.Connection, Never>
        do {
            serverChannel = try await ServerBootstrap(group: eventLoopGroup)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
                .bind(host: configuration.host, port: configuration.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try accepted.wrap(channel) { channel in
                            var connectionLogger = logger
                            connectionLogger[metadataKey: "peer"] = "\(channel.remoteAddress?.description ?? "unknown peer")"
                            try channel.pipeline.syncOperations.addHandler(
                                WriteStallHandler(budget: budget, stallTimeout: configuration.writeStallTimeout, logger: connectionLogger))
                            try channel.pipeline.syncOperations.addHandler(FrameEncoder())
                            try channel.pipeline.syncOperations.addHandler(
                                ByteToMessageHandler(
                                    FrameDecoder(
                                        maxFrameBytes: configuration.maxFrameBytes, decodeLimits: configuration.decodeLimits,
                                        frameTimeout: configuration.frameTimeout, budget: budget)))
                            try channel.pipeline.syncOperations.addHandler(ConnectionErrorResponder())
                            return try NIOAsyncChannel<Frame, OutboundFrames>(wrappingChannelSynchronously: channel)
                        }
                    }
                }
        } catch {
            await accepted.closeAll()
            let failure = RPCError(
                .unavailable, "cannot listen on \(configuration.host):\(configuration.port): \(error)", cause: error)
            let waiters = state.withLock { state in
                state.addressFailure = failure
                defer { state.addressWaiters = [:] }
                return state.addressWaiters.values
            }
            for waiter in waiters { waiter.resume(throwing: failure) }
            throw failure
        }

        let port = serverChannel.channel.localAddress?.port ?? configuration.port
        let address = (host: configuration.host, port: port)
        let (waiters, alreadyShuttingDown) = state.withLock { state in
            state.address = address
            state.serverChannel = serverChannel.channel
            defer { state.addressWaiters = [:] }
            return (state.addressWaiters.values, state.shuttingDown)
        }
        for waiter in waiters { waiter.resume(returning: address) }
        if alreadyShuttingDown { serverChannel.channel.close(promise: nil) }
        logger.info("listening", metadata: ["address": "\(address.host):\(address.port)"])

        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { outer in
                // Bounds a graceful shutdown: after the grace period, close whatever is still open.
                outer.addTask {
                    await self.waitForShutdown()
                    try await Task.sleep(for: configuration.shutdownGracePeriod)
                    self.logger.warning("shutdown grace period over, closing remaining connections")
                    for connection in self.state.withLock({ Array($0.connections.values) }) { connection.close() }
                }
                try await withThrowingDiscardingTaskGroup { connections in
                    do {
                        try await serverChannel.executeThenClose { inbound in
                            for try await connection in inbound where accepted.take(connection) {
                                connections.addTask { await self.serve(connection) }
                            }
                        }
                    } catch {
                        await accepted.closeAll()
                        throw error
                    }
                    // Connections accepted while the listener closed (or the loop was cancelled)
                    // that the loop never took.
                    await accepted.closeAll()
                }
                outer.cancelAll()
            }
        } onGracefulShutdown: {
            self.beginGracefulShutdown()
        }
        logger.info("server stopped")
    }

    /// Stops accepting connections and shuts every connection down gracefully.
    public func beginGracefulShutdown() {
        let (first, channel, connections) = state.withLock { state in
            defer { state.shuttingDown = true }
            return (!state.shuttingDown, state.serverChannel, Array(state.connections.values))
        }
        guard first else { return }
        serving.stop()
        shutdownSignalContinuation.finish()
        logger.info("graceful shutdown started", metadata: ["connections": "\(connections.count)"])
        channel?.close(promise: nil)
        for connection in connections { connection.beginShutdown() }
    }

    /// True once a graceful shutdown has begun.
    public var isShuttingDown: Bool { state.withLock { $0.shuttingDown } }

    /// Returns when a graceful shutdown begins, or when the task is cancelled.
    private func waitForShutdown() async {
        for await _ in shutdownSignal {}
    }

    private func serve(_ channel: NIOAsyncChannel<Frame, OutboundFrames>) async {
        do {
            try await channel.executeThenClose { inbound, outbound in
                let connection = ServerConnection(
                    outbound: outbound, channel: channel.channel, router: router, configuration: configuration,
                    budget: budget, logger: logger)
                let key = ObjectIdentifier(connection)
                let address = channel.channel.remoteAddress?.ipAddress ?? "unknown"
                let refusal = admit(connection, key: key, address: address)
                if let refusal {
                    connection.logger.debug("connection refused", metadata: ["error": "\(refusal.message)"])
                    try? await outbound.write(.frame(Frame(callID: 0, kind: .status(refusal.status))))
                    return
                }
                defer {
                    state.withLock { state in
                        state.connections[key] = nil
                        state.perAddress[address, default: 1] -= 1
                        if state.perAddress[address] == 0 { state.perAddress[address] = nil }
                    }
                }
                await connection.serve(inbound)
            }
        } catch {
            logger.debug("connection ended with an error", metadata: ["error": "\(error)"])
        }
    }

    /// Registers a new connection, or says why it is refused (shutting down, a limit reached).
    private func admit(_ connection: ServerConnection, key: ObjectIdentifier, address: String) -> RPCError? {
        state.withLock { state -> RPCError? in
            if state.shuttingDown { return RPCError(.unavailable, "server shutting down: no new connections") }
            if state.connections.count >= configuration.maxConnections {
                return RPCError(.resourceExhausted, "too many connections (limit \(configuration.maxConnections))")
            }
            if state.perAddress[address, default: 0] >= configuration.maxConnectionsPerAddress {
                return RPCError(
                    .resourceExhausted,
                    "too many connections from \(address) (limit \(configuration.maxConnectionsPerAddress)): close one first")
            }
            if budget.isExhausted {
                return RPCError(
                    .resourceExhausted, "the server is holding all the bytes it may for its clients (\(budget.limit) bytes): try again later")
            }
            state.connections[key] = connection
            state.perAddress[address, default: 0] += 1
            return nil
        }
    }
}
