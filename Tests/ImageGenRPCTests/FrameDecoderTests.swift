@testable import ImageGenRPC
import ImageGenTestSupport
import ImageGenWire
import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing

/// The frame decoder alone, on an embedded channel: NIO's `ByteToMessageDecoderVerifier` feeds it
/// every frame kind byte by byte, one frame at a time and all at once; each refusal is checked
/// with the status and the budget it leaves.
@Suite("FrameDecoder", .timeLimit(.minutes(1)), .hangWatchdog)
struct FrameDecoderTests {
    static func decoder(maxFrameBytes: Int = 1 << 20, budget: BufferBudget? = nil) -> FrameDecoder {
        FrameDecoder(maxFrameBytes: maxFrameBytes, decodeLimits: .default, frameTimeout: .seconds(30), budget: budget)
    }

    /// One frame of every kind, and a large one.
    static let frames: [Frame] = [
        Frame(callID: 1, kind: .start(CallStart(method: "a.b/C", request: [1, 2, 3], timeoutMilliseconds: 5, metadata: ["k": "v"]))),
        Frame(callID: 2, kind: .message(Array(repeating: 0xAB, count: 3_000))),
        Frame(callID: 3, kind: .status(CallStatus(code: 5, message: "not found"))),
        Frame(callID: 4, kind: .cancel),
        Frame(callID: 0, kind: .ping(nonce: 42)),
        Frame(callID: 0, kind: .pong(nonce: .max)),
        Frame(callID: 0, kind: .goAway(reason: "server shutting down")),
        Frame(callID: UInt64.max, kind: nil),
    ]

    @Test("every frame kind decodes byte by byte, frame by frame and all at once", arguments: [false, true])
    func verifier(withBudget: Bool) throws {
        let pairs = Self.frames.map { (ByteBuffer(bytes: $0.framedBytes()), [$0]) }
        let budget = BufferBudget(limit: 1 << 20)
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) {
            Self.decoder(budget: withBudget ? budget : nil)
        }
        #expect(budget.inUse == 0)
    }

    /// Bytes that break the protocol, and the status they close the connection with.
    struct BadInput: Sendable, CustomTestStringConvertible {
        let name: String
        let bytes: [UInt8]
        let code: RPCError.Code
        let message: String
        var testDescription: String { name }
    }

    static let badInputs = [
        BadInput(name: "length 0", bytes: [0, 0, 0, 0], code: .invalidArgument, message: "protocol error: frame length is 0"),
        BadInput(
            name: "length over the limit, refused from its 4 bytes", bytes: [0, 0, 4, 1], code: .resourceExhausted,
            message: "frame length 1025 exceeds the limit of 1024 bytes"),
        BadInput(name: "a frame that does not decode", bytes: [0, 0, 0, 2, 0xFF, 0xFF], code: .invalidArgument, message: "protocol error: "),
    ]

    @Test("bad bytes close the connection with one status on call 0; what follows is dropped", arguments: badInputs)
    func badInput(_ bad: BadInput) throws {
        let (channel, budget) = try Self.serverChannel(maxFrameBytes: 1024)
        let good = Frame(callID: 1, kind: .cancel).framedBytes()
        try channel.writeInbound(ByteBuffer(bytes: good + bad.bytes))
        try channel.writeInbound(ByteBuffer(bytes: good))
        #expect(try channel.readInbound(as: Frame.self) == Frame(callID: 1, kind: .cancel))
        #expect(try channel.readInbound(as: Frame.self) == nil)
        let status = try Self.status(channel)
        #expect(status.code == bad.code.rawValue)
        #expect(status.message.hasPrefix(bad.message), "\(status.message)")
        #expect(!channel.isActive)
        #expect(budget.inUse == 0)
        _ = try? channel.finish()
    }

    @Test("on the client side the error goes up the pipeline, with its cause")
    func clientSideRaises() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(Self.decoder(maxFrameBytes: 16)))
        #expect {
            try channel.writeInbound(ByteBuffer(bytes: [0, 0, 0, 17]))
        } throws: { error in
            guard let error = error as? RPCError else { return false }
            return error.code == .resourceExhausted && (error.cause as? WireError)?.code == .frameTooLarge
        }
        _ = try? channel.finish()
    }

    @Test("the bytes of a partial frame count against the budget until the input ends", arguments: [1, 3, 4, 10])
    func partialFrameGivenBackAtEnd(prefix: Int) throws {
        let (channel, budget) = try Self.serverChannel(maxFrameBytes: 1024)
        let frame = Frame(callID: 1, kind: .message(Array(repeating: 1, count: 100))).framedBytes()
        try channel.writeInbound(ByteBuffer(bytes: frame.prefix(prefix)))
        #expect(budget.inUse == prefix)
        channel.pipeline.fireChannelInactive()
        #expect(budget.inUse == 0)
        _ = try? channel.finish()
    }

    /// A channel with the server's decoding handlers and a budget of its own.
    static func serverChannel(maxFrameBytes: Int) throws -> (EmbeddedChannel, BufferBudget) {
        let budget = BufferBudget(limit: 1 << 20)
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(FrameEncoder())
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(decoder(maxFrameBytes: maxFrameBytes, budget: budget)))
        try channel.pipeline.syncOperations.addHandler(ConnectionErrorResponder())
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return (channel, budget)
    }

    /// The one status frame (call 0) the channel wrote.
    static func status(_ channel: EmbeddedChannel) throws -> CallStatus {
        var written = try #require(try channel.readOutbound(as: ByteBuffer.self))
        let bytes = written.readBytes(length: written.readableBytes) ?? []
        let frames = try FrameSplitting.frames(in: bytes)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        guard frames.count == 1, frames[0].callID == 0, case .status(let status)? = frames[0].kind else {
            Issue.record("expected one status on call 0, got \(frames)")
            return CallStatus(code: 0, message: "")
        }
        return status
    }
}
