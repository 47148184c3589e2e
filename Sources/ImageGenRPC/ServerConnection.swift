import ImageGenWire
import Logging
import NIOCore
import Synchronization

/// The calls of one client connection: admission (auth, limits, shutdown), dispatch to the router,
/// deadlines, cancellation, and the rule that every call ends with exactly one status.
final class ServerConnection: Sendable {
    /// Why a call must end before its handler returns.
    enum Interrupt: Sendable { case cancelledByClient, serverShuttingDown }

    /// What the connection loop must do after a frame.
    enum Action { case none, start(callID: UInt64, CallStart), close }

    private struct OpenCall {
        var kind: RPCRouter.Kind?
        var ended = false
        /// The call passed the authorization check (or none is configured).
        var authenticated = false
        let interrupts: AsyncStream<Interrupt>.Continuation
        let interruptStream: AsyncStream<Interrupt>
    }

    private struct State {
        var calls: [UInt64: OpenCall] = [:]
        let openedAt = ContinuousClock.now
        /// A call on this connection passed the authorization check.
        var authenticated = false
        /// When an authenticated call last started or ended; pings and refused calls do not count.
        var lastActivity = ContinuousClock.now
        var shuttingDown = false
        var closed = false
    }

    private let state = Mutex(State())
    private let outbound: NIOAsyncChannelOutboundWriter<OutboundFrames>
    private let channel: any Channel
    private let router: RPCRouter
    private let configuration: RPCServerConfiguration
    private let budget: BufferBudget
    private let expectedAuthorization: [UInt8]?
    private let peer: String
    let logger: Logger

    init(
        outbound: NIOAsyncChannelOutboundWriter<OutboundFrames>, channel: any Channel, router: RPCRouter,
        configuration: RPCServerConfiguration, budget: BufferBudget, logger: Logger
    ) {
        self.outbound = outbound
        self.channel = channel
        self.router = router
        self.configuration = configuration
        self.budget = budget
        self.expectedAuthorization = configuration.authToken.map { Array("Bearer \($0)".utf8) }
        self.peer = channel.remoteAddress?.description ?? "unknown peer"
        var logger = logger
        logger[metadataKey: "peer"] = "\(peer)"
        self.logger = logger
    }

    // MARK: Frames from the client

    /// Handles one frame from the client and says what the connection loop should do next.
    func receive(_ frame: Frame) async -> Action {
        switch frame.kind {
        case .ping(let nonce):
            try? await outbound.write(.frame(Frame(callID: frame.callID, kind: .pong(nonce: nonce))))
            return .none
        case .pong:
            return .none
        case .start(let start):
            return await admit(callID: frame.callID, start)
        case .cancel:
            let interrupts = state.withLock { $0.calls[frame.callID]?.interrupts }
            interrupts?.yield(.cancelledByClient)
            return .none
        case .message:
            return await protocolError("a client may not send message frames (call \(frame.callID))")
        case .status:
            return await protocolError("a client may not send status frames (call \(frame.callID))")
        case .goAway:
            return await protocolError("a client may not send goaway frames")
        case nil:
            return await protocolError("frame for call \(frame.callID) carries no kind")
        }
    }

    private enum Admission { case open, duplicate, shuttingDown, full }

    private func admit(callID: UInt64, _ start: CallStart) async -> Action {
        if callID == 0 {
            return await protocolError("call id 0 is reserved for the connection; calls use a nonzero id")
        }
        if let refusal = sizeRefusal(start) {
            logger.debug(
                "call refused", metadata: ["call": "\(callID)", "method": "\(ClientText.loggable(start.method))", "error": "\(refusal.message)"])
            await writeStatus(callID, refusal)
            observe(start.method, refusal.code.description, since: .now)
            return .none
        }
        if budget.isExhausted {
            await writeStatus(
                callID,
                RPCError(.resourceExhausted, "the server is holding all the bytes it may for its clients (\(budget.limit) bytes): try again later"))
            observe(start.method, RPCError.Code.resourceExhausted.description, since: .now)
            return .none
        }
        let limit = configuration.maxCallsPerConnection
        let admission: Admission = state.withLock { state in
            if state.calls[callID] != nil { return .duplicate }
            if state.shuttingDown { return .shuttingDown }
            if state.calls.count >= limit { return .full }
            let (stream, continuation) = AsyncStream.makeStream(of: Interrupt.self)
            state.calls[callID] = OpenCall(
                kind: router.route(for: start.method)?.kind, interrupts: continuation, interruptStream: stream)
            return .open
        }
        switch admission {
        case .open:
            return .start(callID: callID, start)
        case .duplicate:
            return await protocolError("call id \(callID) is already open on this connection")
        case .shuttingDown:
            await writeStatus(callID, RPCError(.unavailable, "server shutting down: no new calls"))
            observe(start.method, RPCError.Code.unavailable.description, since: .now)
            return .none
        case .full:
            await writeStatus(
                callID,
                RPCError(.resourceExhausted, "too many open calls on this connection (limit \(limit)): wait for one to end"))
            observe(start.method, RPCError.Code.resourceExhausted.description, since: .now)
            return .none
        }
    }

    /// Why a call's method name or metadata is over the configured caps, if it is.
    private func sizeRefusal(_ start: CallStart) -> RPCError? {
        let methodBytes = start.method.utf8.count
        if methodBytes > configuration.maxMethodBytes {
            return RPCError(.invalidArgument, "method name is \(methodBytes) bytes; at most \(configuration.maxMethodBytes) are allowed")
        }
        if start.metadata.count > configuration.maxMetadataEntries {
            return RPCError(
                .resourceExhausted, "call metadata has \(start.metadata.count) entries; at most \(configuration.maxMetadataEntries) are allowed")
        }
        let metadataBytes = start.metadata.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count }
        if metadataBytes > configuration.maxMetadataBytes {
            return RPCError(
                .resourceExhausted, "call metadata is \(metadataBytes) bytes; at most \(configuration.maxMetadataBytes) are allowed")
        }
        return nil
    }

    private func protocolError(_ message: String) async -> Action {
        logger.warning("protocol error, closing connection", metadata: ["error": "\(message)"])
        try? await outbound.write(
            .frame(Frame(callID: 0, kind: .status(RPCError(.invalidArgument, message).status))))
        return .close
    }

    // MARK: Running a call

    private enum Outcome: Sendable {
        case handlerFinished(RPCError?)
        case interrupted(Interrupt)
        case deadlineExceeded
    }

    /// Runs an admitted call to its end; returns only when its handler has exited.
    func runCall(callID: UInt64, start: CallStart) async {
        defer { release(callID) }
        let admitted = ContinuousClock.now
        let end = { [self] (callID: UInt64, error: RPCError?) async in
            if await self.end(callID, error) { self.observe(start.method, error?.code.description ?? "OK", since: admitted) }
        }
        var logger = self.logger
        logger[metadataKey: "call"] = "\(callID)"
        logger[metadataKey: "method"] = "\(ClientText.loggable(start.method))"

        if let expected = expectedAuthorization {
            let given = Array((start.metadata["authorization"] ?? "").utf8)
            guard Self.constantTimeEquals(given, expected) else {
                logger.notice("call refused: missing or invalid authorization")
                await end(callID, RPCError(.unauthenticated, "missing or invalid authorization: send metadata \"authorization: Bearer <token>\""))
                return
            }
        }
        markAuthenticated(callID)
        guard let route = router.route(for: start.method) else {
            logger.debug("call refused: no such method")
            await end(callID, RPCError(.unimplemented, "method \(ClientText.loggable(start.method)) is not implemented by this server"))
            return
        }
        guard let interrupts = state.withLock({ $0.calls[callID]?.interruptStream }) else { return }

        var metadata = start.metadata
        metadata["authorization"] = nil
        let timeout = start.timeoutMilliseconds
        let deadline = timeout > 0 ? ContinuousClock.now + .milliseconds(Int64(timeout)) : nil
        let context = ServerContext(
            method: start.method, metadata: metadata, deadline: deadline, peer: peer, logger: logger,
            isPeerConnected: { [weak self] in self?.isOpen ?? false })
        let callIDField = Frame.callIDField(callID)
        let sink = CallSink { [self] frameFields in
            try await self.sendMessages(callID, callIDField: callIDField, frameFields: frameFields)
        }
        let limits = configuration.decodeLimits

        logger.debug("call started")
        await withTaskGroup(of: Outcome?.self) { race in
            race.addTask {
                do {
                    try await route.run(start.request, limits, context, sink)
                    return .handlerFinished(nil)
                } catch {
                    return .handlerFinished(RPCError(mapping: error))
                }
            }
            race.addTask {
                for await interrupt in interrupts { return .interrupted(interrupt) }
                return nil
            }
            if let deadline {
                race.addTask {
                    do {
                        try await Task.sleep(until: deadline, clock: .continuous)
                        return .deadlineExceeded
                    } catch {
                        return nil
                    }
                }
            }
            // The first outcome decides the status; the rest are cancelled, and the group waits for
            // the handler to really exit before the call's slot is released.
            while let next = await race.next() {
                guard let outcome = next else { continue }
                switch outcome {
                case .handlerFinished(let error):
                    await end(callID, error)
                case .interrupted(.cancelledByClient):
                    await end(callID, RPCError(.cancelled, "call cancelled by the client"))
                case .interrupted(.serverShuttingDown):
                    await end(callID, RPCError(.unavailable, "server shutting down"))
                case .deadlineExceeded:
                    await end(callID, RPCError(.deadlineExceeded, "deadline of \(timeout) ms exceeded"))
                }
                race.cancelAll()
                break
            }
        }
        logger.debug("call ended")
    }

    /// Writes response messages of a call as frames, all with one write and one flush.
    /// `frameFields` are the messages' ``EncodedMessage/frameField``s.
    private func sendMessages(_ callID: UInt64, callIDField: [UInt8], frameFields: [[UInt8]]) async throws {
        let open = state.withLock { $0.calls[callID].map { !$0.ended } ?? false }
        guard open else { throw RPCError(.cancelled, "call \(callID) has ended") }
        // The whole frame must fit the peer's limit.
        if let field = frameFields.first(where: { callIDField.count + $0.count > configuration.maxFrameBytes }) {
            throw RPCError(
                .resourceExhausted,
                "a response frame of \(callIDField.count + field.count) bytes exceeds the frame limit of \(configuration.maxFrameBytes) bytes")
        }
        try await outbound.write(.messages(callIDField: callIDField, frameFields: frameFields))
    }

    /// Tells the configured observer of a call's end; a method the router does not know is "unknown".
    private func observe(_ method: String, _ code: String, since start: ContinuousClock.Instant) {
        guard let observer = configuration.callObserver else { return }
        let name = router.route(for: method) == nil ? "unknown" : method
        observer.callEnded(method: name, code: code, duration: ContinuousClock.now - start)
    }

    /// Ends a call with its one status; later attempts are ignored. Returns whether this one ended it.
    @discardableResult
    private func end(_ callID: UInt64, _ error: RPCError?) async -> Bool {
        let first = state.withLock { state -> Bool in
            guard var call = state.calls[callID], !call.ended else { return false }
            call.ended = true
            state.calls[callID] = call
            return true
        }
        guard first else { return false }
        await writeStatus(callID, error?.status ?? CallStatus(code: 0, message: ""))
        return true
    }

    private func writeStatus(_ callID: UInt64, _ error: RPCError) async {
        await writeStatus(callID, error.status)
    }

    private func writeStatus(_ callID: UInt64, _ status: CallStatus) async {
        try? await outbound.write(.frame(Frame(callID: callID, kind: .status(status))))
    }

    private func markAuthenticated(_ callID: UInt64) {
        state.withLock { state in
            state.calls[callID]?.authenticated = true
            state.authenticated = true
            state.lastActivity = .now
        }
    }

    private func release(_ callID: UInt64) {
        let closeNow = state.withLock { state -> Bool in
            state.calls[callID]?.interrupts.finish()
            if state.calls[callID]?.authenticated == true { state.lastActivity = .now }
            state.calls[callID] = nil
            return state.shuttingDown && state.calls.isEmpty && !state.closed
        }
        if closeNow { close() }
    }

    // MARK: Life cycle

    /// Starts a graceful shutdown of this connection: goaway, refuse new calls, end streams with
    /// UNAVAILABLE, let unary calls finish, then close.
    func beginShutdown() {
        let (streams, closeNow) = state.withLock { state -> ([AsyncStream<Interrupt>.Continuation], Bool) in
            guard !state.shuttingDown else { return ([], false) }
            state.shuttingDown = true
            let streams = state.calls.values.filter { $0.kind == .serverStreaming }.map(\.interrupts)
            return (streams, state.calls.isEmpty)
        }
        channel.writeAndFlush(OutboundFrames.frame(Frame(callID: 0, kind: .goAway(reason: "server shutting down"))), promise: nil)
        for stream in streams { stream.yield(.serverShuttingDown) }
        if closeNow { close() }
    }

    /// Whether answers can still reach the peer: neither ``close()`` nor the channel (a stalled
    /// peer, the peer gone) closed the connection.
    var isOpen: Bool { !state.withLock { $0.closed } && channel.isActive }

    /// Closes the connection now; open calls are cancelled by the connection loop.
    func close() {
        let first = state.withLock { state -> Bool in
            defer { state.closed = true }
            return !state.closed
        }
        if first { channel.close(promise: nil) }
    }

    /// Why the connection should be closed now, if it should: it made no authenticated call within
    /// `authTimeout` of opening, or it had no open call and no authenticated call for `idleTimeout`.
    func closeReason(now: ContinuousClock.Instant) -> String? {
        state.withLock { state in
            if !state.authenticated, now - state.openedAt >= configuration.authTimeout {
                return "no authenticated call within \(configuration.authTimeout) of connecting"
            }
            if state.calls.isEmpty, now - state.lastActivity >= configuration.idleTimeout {
                return "idle for \(configuration.idleTimeout)"
            }
            return nil
        }
    }

    /// When ``closeReason(now:)`` could next say something: the auth deadline while unauthenticated,
    /// else the end of the idle timeout (an open call or a later one only moves it later).
    func nextCheck(now: ContinuousClock.Instant) -> ContinuousClock.Instant {
        state.withLock { state in
            let idleEnd = state.calls.isEmpty ? state.lastActivity + configuration.idleTimeout : now + configuration.idleTimeout
            guard !state.authenticated else { return idleEnd }
            return min(idleEnd, state.openedAt + configuration.authTimeout)
        }
    }

    /// Compares two byte strings in time that depends only on their lengths.
    static func constantTimeEquals(_ given: [UInt8], _ expected: [UInt8]) -> Bool {
        var difference = UInt8(given.count == expected.count ? 0 : 1)
        for index in 0..<expected.count {
            let byte = index < given.count ? given[index] : 0
            difference |= byte ^ expected[index]
        }
        return difference == 0
    }
}
