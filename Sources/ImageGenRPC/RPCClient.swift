public import ImageGenWire
public import NIOCore
public import NIOPosix
import Synchronization

/// An async/await client for the imagegen RPC protocol: many concurrent calls over one TCP
/// connection, unary and server-streaming, with per-call timeouts and cancellation.
///
/// ```swift
/// let client = try await RPCClient.connect(host: "127.0.0.1", port: 7420, token: token)
/// defer { client.close() }
/// let health: HealthCheckResponse = try await client.unary(
///     "imagegen.v1.Health/Check", HealthCheckRequest(), as: HealthCheckResponse.self)
/// ```
///
/// The connection is driven by SwiftNIO's event loop; no task runs in the background. A connection
/// that drops ends every open call with UNAVAILABLE, never as a clean end of stream.
public final class RPCClient: Sendable {
    typealias Messages = AsyncThrowingStream<[UInt8], any Error>

    private struct State {
        var nextCallID: UInt64 = 1
        var calls: [UInt64: Messages.Continuation] = [:]
        var pings: [UInt64: CheckedContinuation<Void, any Error>] = [:]
        var nextNonce: UInt64 = 1
        var goAway: String?
        var failure: RPCError?
    }

    /// How this client connected and reads.
    public let configuration: Configuration
    private let channel: any Channel
    private let token: String?
    private let state = Mutex(State())

    private init(channel: any Channel, token: String?, configuration: Configuration) {
        self.channel = channel
        self.token = token
        self.configuration = configuration
    }

    /// Opens a connection. `token`, when given, is sent as `authorization: Bearer <token>` on every call.
    public static func connect(
        host: String, port: Int, token: String? = nil, configuration: Configuration = Configuration(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> RPCClient {
        let handler = ClientFrameHandler()
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: eventLoopGroup)
                .connectTimeout(.milliseconds(configuration.connectTimeout.wholeMilliseconds))
                .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(FrameEncoder())
                        try channel.pipeline.syncOperations.addHandler(
                            ByteToMessageHandler(
                                FrameDecoder(
                                    maxFrameBytes: configuration.maxFrameBytes, decodeLimits: configuration.decodeLimits,
                                    frameTimeout: configuration.frameTimeout)))
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                }
                .connect(host: host, port: port).get()
        } catch {
            throw RPCError(.unavailable, "cannot connect to \(host):\(port): \(error)", cause: error)
        }
        let client = RPCClient(channel: channel, token: token, configuration: configuration)
        handler.attach(client)
        return client
    }

    /// Whether new calls may go over this connection: it is open, has not failed, and the server
    /// has not sent goaway. A client that is not open never becomes open again: connect anew.
    public var isOpen: Bool {
        channel.isActive && state.withLock { $0.failure == nil && $0.goAway == nil }
    }

    /// Closes the connection; open calls end with UNAVAILABLE.
    public func close() {
        channel.close(promise: nil)
    }

    // MARK: Calls

    /// Calls a unary method and returns its response, or throws `RPCError` with the call's status.
    /// `timeout` is sent to the server as the call's deadline, and enforced here too.
    public func unary<Request: WireMessage, Response: WireMessage>(
        _ method: String, _ request: Request, as responseType: Response.Type,
        timeout: Duration? = nil, metadata: [String: String] = [:]
    ) async throws -> Response {
        let stream = try await serverStreaming(method, request, as: Response.self, timeout: timeout, metadata: metadata)
        var response: Response?
        for try await message in stream {
            guard response == nil else {
                throw RPCError(.internalError, "\(method): a unary call answered more than one message")
            }
            response = message
        }
        guard let response else {
            throw RPCError(.internalError, "\(method): the call ended OK without a response")
        }
        return response
    }

    /// Calls a server-streaming method. Iterate the result for the responses; the sequence ends
    /// when the call ends OK and throws `RPCError` otherwise. Cancelling the iterating task, or
    /// dropping the sequence before its end, sends `cancel` to the server.
    public func serverStreaming<Request: WireMessage, Response: WireMessage>(
        _ method: String, _ request: Request, as responseType: Response.Type,
        timeout: Duration? = nil, metadata: [String: String] = [:]
    ) async throws -> RPCResponseStream<Response> {
        var metadata = metadata
        if let token { metadata["authorization"] = "Bearer \(token)" }
        let timeoutMilliseconds = timeout.map { UInt32(clamping: max(1, $0.wholeMilliseconds)) } ?? 0
        let start = CallStart(
            method: method, request: request.serializedBytes(), timeoutMilliseconds: timeoutMilliseconds,
            metadata: metadata)

        let (messages, continuation) = Messages.makeStream()
        let callID: UInt64 = try state.withLock { state in
            if let failure = state.failure { throw failure }
            if let reason = state.goAway { throw RPCError(.unavailable, "server is going away: \(reason)") }
            let id = state.nextCallID
            state.nextCallID += 1
            state.calls[id] = continuation
            return id
        }
        continuation.onTermination = { [weak self] termination in
            guard case .cancelled = termination, let self else { return }
            // The consumer stopped early: tell the server, if the call is still open.
            let wasOpen = self.state.withLock { $0.calls.removeValue(forKey: callID) != nil }
            if wasOpen {
                self.channel.writeAndFlush(OutboundFrames.frame(Frame(callID: callID, kind: .cancel)), promise: nil)
            }
        }
        do {
            try await channel.writeAndFlush(OutboundFrames.frame(Frame(callID: callID, kind: .start(start)))).get()
        } catch {
            _ = state.withLock { $0.calls.removeValue(forKey: callID) }
            throw RPCError(.unavailable, "\(method): cannot send the call: \(error)", cause: error)
        }
        // A server that never answers still ends the call: give it a moment past the deadline.
        let localDeadline = timeout.map { ContinuousClock.now + $0 + configuration.statusGracePeriod }
        return RPCResponseStream(
            messages: messages, limits: configuration.decodeLimits, method: method, localDeadline: localDeadline
        ) {
            [weak self] in self?.abandon(callID, RPCError(.deadlineExceeded, "\(method): no status within the deadline"))
        }
    }

    /// Sends a ping and waits for the pong. Throws `CancellationError` as soon as the calling task
    /// is cancelled (a pong that comes later is dropped).
    public func ping() async throws {
        let nonce = state.withLock { state in
            defer { state.nextNonce += 1 }
            return state.nextNonce
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let registered: Bool = state.withLock { state in
                    if let failure = state.failure {
                        continuation.resume(throwing: failure)
                        return false
                    }
                    // Checked under the lock the cancellation handler takes: either it runs after
                    // this and finds the continuation, or the task is already marked cancelled here.
                    if Task.isCancelled {
                        continuation.resume(throwing: CancellationError())
                        return false
                    }
                    state.pings[nonce] = continuation
                    return true
                }
                if registered {
                    channel.writeAndFlush(OutboundFrames.frame(Frame(callID: 0, kind: .ping(nonce: nonce))), promise: nil)
                }
            }
        } onCancel: {
            let waiter = state.withLock { $0.pings.removeValue(forKey: nonce) }
            waiter?.resume(throwing: CancellationError())
        }
    }

    /// Ends a call locally and tells the server to stop it.
    private func abandon(_ callID: UInt64, _ error: RPCError) {
        let continuation = state.withLock { $0.calls.removeValue(forKey: callID) }
        guard let continuation else { return }
        channel.writeAndFlush(OutboundFrames.frame(Frame(callID: callID, kind: .cancel)), promise: nil)
        continuation.finish(throwing: error)
    }

    // MARK: Frames from the server (on the event loop)

    func received(_ frame: Frame) {
        switch frame.kind {
        case .message(let bytes):
            let continuation = state.withLock { $0.calls[frame.callID] }
            continuation?.yield(bytes)
        case .status(let status) where frame.callID == 0:
            // A connection-level status always ends the connection: an OK one (no server sends it)
            // fails the calls UNAVAILABLE.
            let code = RPCError.Code(rawValue: status.code) ?? .unavailable
            failAll(RPCError(code, "connection closed by the server: \(status.message)"))
        case .status(let status):
            let continuation = state.withLock { $0.calls.removeValue(forKey: frame.callID) }
            if let error = RPCError(status: status) {
                continuation?.finish(throwing: error)
            } else {
                continuation?.finish()
            }
        case .ping(let nonce):
            channel.writeAndFlush(OutboundFrames.frame(Frame(callID: 0, kind: .pong(nonce: nonce))), promise: nil)
        case .pong(let nonce):
            let waiter = state.withLock { $0.pings.removeValue(forKey: nonce) }
            waiter?.resume()
        case .goAway(let reason):
            state.withLock { $0.goAway = reason }
        case .start, .cancel, nil:
            break  // not for a client; ignore rather than fail live calls
        }
    }

    func connectionFailed(_ error: RPCError) {
        failAll(error)
    }

    private func failAll(_ error: RPCError) {
        let (calls, pings) = state.withLock { state in
            if state.failure == nil { state.failure = error }
            defer {
                state.calls = [:]
                state.pings = [:]
            }
            return (Array(state.calls.values), Array(state.pings.values))
        }
        for call in calls { call.finish(throwing: error) }
        for ping in pings { ping.resume(throwing: error) }
    }
}

/// Hands frames and connection events from the channel to the client.
final class ClientFrameHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = Frame

    private let client = Mutex<RPCClient?>(nil)

    func attach(_ client: RPCClient) {
        self.client.withLock { $0 = client }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        client.withLock { $0 }?.received(frame)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let rpcError = (error as? RPCError).map {
            RPCError(.unavailable, "protocol error from the server: \($0.message)", cause: $0)
        } ?? RPCError(.unavailable, "connection error: \(error)", cause: error)
        client.withLock { $0 }?.connectionFailed(rpcError)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        client.withLock { $0 }?.connectionFailed(RPCError(.unavailable, "connection closed"))
        context.fireChannelInactive()
    }
}
