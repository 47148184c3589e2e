@testable import ImageGenRPC
import ImageGenInterop
import ImageGenWire
import Logging
import NIOCore
import NIOEmbedded
import Testing

/// A ``ServerConnection`` serving one `NIOAsyncTestingChannel`: the test writes the client's
/// frames inbound and reads, in order, the frames the connection writes out. No socket, no codec:
/// the call life cycle alone.
struct TestingConnection: Sendable {
    let channel: NIOAsyncTestingChannel
    let connection: ServerConnection

    /// Runs `body` with a connection served by `router`, then closes the channel and waits until
    /// the connection has stopped every call.
    static func with<R: Sendable>(
        _ configuration: RPCServerConfiguration = RPCServerConfiguration(),
        router: RPCRouter = TestService.router(),
        _ body: (TestingConnection) async throws -> R
    ) async throws -> R {
        let channel = NIOAsyncTestingChannel()
        try await channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 7420)).get()
        let asyncChannel = try await channel.testingEventLoop.executeInContext {
            try NIOAsyncChannel<Frame, OutboundFrames>(wrappingChannelSynchronously: channel)
        }
        var logger = Logger(label: "testing-connection")
        logger.logLevel = .critical
        return try await asyncChannel.executeThenClose { inbound, outbound in
            let connection = ServerConnection(
                outbound: outbound, channel: channel, router: router, configuration: configuration,
                budget: BufferBudget(limit: configuration.bufferBudgetBytes), logger: logger)
            return try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await connection.serve(inbound) }
                let result: R
                do {
                    result = try await body(TestingConnection(channel: channel, connection: connection))
                } catch {
                    channel.close(promise: nil)
                    throw error
                }
                channel.close(promise: nil)
                try await group.waitForAll()
                return result
            }
        }
    }

    /// Sends one frame from the client.
    func send(_ frame: Frame) async throws {
        try await channel.writeInbound(frame)
    }

    /// Starts call `callID` of `method` with a `CallStatus` request.
    func start(_ callID: UInt64, _ method: String, _ request: CallStatus = CallStatus(code: 0, message: ""), timeoutMs: UInt32 = 0)
        async throws
    {
        try await send(
            Frame(
                callID: callID,
                kind: .start(CallStart(method: method, request: request.serializedBytes(), timeoutMilliseconds: timeoutMs))))
    }

    /// The frames of the connection's next write (one write may carry several messages of a call).
    func nextWrite() async throws -> [Frame] {
        try Self.frames(of: try await channel.waitForOutboundWrite(as: OutboundFrames.self))
    }

    /// The frames written until `callID`'s status, that status included.
    func frames(until callID: UInt64) async throws -> [Frame] {
        var frames: [Frame] = []
        while true {
            frames += try await nextWrite()
            if frames.contains(where: { $0.callID == callID && $0.isStatus }) { return frames }
        }
    }

    /// The responses and the one status of `callID`, in order, from the writes until that status.
    func outcome(of callID: UInt64) async throws -> (messages: [CallStatus], status: CallStatus) {
        let frames = try await frames(until: callID).filter { $0.callID == callID }
        var messages: [CallStatus] = []
        var status: CallStatus?
        for frame in frames {
            switch frame.kind {
            case .message(let bytes): messages.append(try CallStatus(serializedBytes: bytes))
            case .status(let ended):
                #expect(status == nil, "call \(callID) ended twice")
                status = ended
            default: Issue.record("unexpected frame \(frame)")
            }
        }
        return (messages, try #require(status))
    }

    /// Proves nothing else was written before: a ping's pong is the next write.
    func expectNothingWrittenBefore(pingNonce nonce: UInt64, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        try await send(Frame(callID: 0, kind: .ping(nonce: nonce)))
        let frames = try await nextWrite()
        #expect(frames == [Frame(callID: 0, kind: .pong(nonce: nonce))], sourceLocation: sourceLocation)
    }

    /// The frames of one write.
    static func frames(of write: OutboundFrames) throws -> [Frame] {
        switch write {
        case .frame(let frame):
            return [FrameEncoder.bounded(frame)]
        case .messages(let callIDField, let frameFields):
            return try frameFields.map { try Frame(serializedBytes: callIDField + $0) }
        }
    }
}

extension Frame {
    var isStatus: Bool {
        if case .status = kind { return true }
        return false
    }
}
