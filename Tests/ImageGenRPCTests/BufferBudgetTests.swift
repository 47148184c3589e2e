@testable import ImageGenRPC
import ImageGenWire
import Logging
import NIOCore
import NIOEmbedded
import ImageGenTestSupport
import Testing

/// The server-wide buffer budget, on the handlers that spend it, over an embedded channel.
@Suite("Buffer budget accounting", .timeLimit(.minutes(1)), .hangWatchdog)
struct BufferBudgetTests {
    static func decoder(_ budget: BufferBudget) -> ByteToMessageHandler<FrameDecoder> {
        ByteToMessageHandler(FrameDecoder(maxFrameBytes: 1 << 20, decodeLimits: .default, frameTimeout: .seconds(30), budget: budget))
    }

    static func channel(_ budget: BufferBudget) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(FrameEncoder())
        try channel.pipeline.syncOperations.addHandler(decoder(budget))
        try channel.pipeline.syncOperations.addHandler(ConnectionErrorResponder())
        return channel
    }

    /// A whole frame of about `bytes` bytes.
    static func frame(bytes: Int) -> [UInt8] {
        Frame(callID: 1, kind: .start(CallStart(method: "m", request: [UInt8](repeating: 1, count: bytes), timeoutMilliseconds: 0, metadata: [:])))
            .framedBytes()
    }

    @Test("bytes of an incomplete frame count while held and are given back when it completes", arguments: [1, 100, 2_999, 3_000])
    func heldWhileIncomplete(split: Int) throws {
        let budget = BufferBudget(limit: 10_000)
        let channel = try Self.channel(budget)
        let frame = Self.frame(bytes: 3_000)
        try channel.writeInbound(ByteBuffer(bytes: frame[..<split]))
        #expect(budget.inUse == split)
        #expect(try channel.readInbound(as: Frame.self) == nil)
        try channel.writeInbound(ByteBuffer(bytes: frame[split...]))
        #expect(try channel.readInbound(as: Frame.self) != nil)
        #expect(budget.inUse == 0)
        _ = try channel.finish()
    }

    @Test("two connections share one budget; the one whose bytes do not fit is refused, the other keeps its frame")
    func sharedAndRefused() throws {
        let budget = BufferBudget(limit: 10_000)
        let first = try Self.channel(budget)
        let second = try Self.channel(budget)
        let big = Self.frame(bytes: 7_000)
        try first.writeInbound(ByteBuffer(bytes: big.prefix(6_000)))
        try second.writeInbound(ByteBuffer(bytes: Self.frame(bytes: 5_000).prefix(4_500)))
        // The second did not fit: told RESOURCE_EXHAUSTED on call 0, its bytes given back.
        var written = try #require(try second.readOutbound(as: ByteBuffer.self))
        let bytes = written.readBytes(length: written.readableBytes) ?? []
        let frames = try bytes.count > 4 ? [Frame(serializedBytes: Array(bytes.dropFirst(4)))] : []
        guard case .status(let status)? = frames.first?.kind else {
            Issue.record("expected a status, got \(frames)")
            return
        }
        #expect(status.code == RPCError.Code.resourceExhausted.rawValue)
        #expect(budget.inUse == 6_000)
        // The first completes its frame.
        try first.writeInbound(ByteBuffer(bytes: big.dropFirst(6_000)))
        #expect(try first.readInbound(as: Frame.self) != nil)
        #expect(budget.inUse == 0)
        _ = try? first.finish()
        _ = try? second.finish()
    }

    @Test("a connection that closes with a partial frame gives its bytes back")
    func givenBackOnClose() throws {
        let budget = BufferBudget(limit: 10_000)
        let channel = try Self.channel(budget)
        try channel.writeInbound(ByteBuffer(bytes: Self.frame(bytes: 5_000).prefix(2_500)))
        #expect(budget.inUse == 2_500)
        _ = try channel.finish()
        #expect(budget.inUse == 0)
    }

    @Test("bytes written to a peer count until the socket takes them")
    func writesCountUntilFlushed() throws {
        let budget = BufferBudget(limit: 1_000)
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(
            WriteStallHandler(budget: budget, stallTimeout: .seconds(30), logger: Logger(label: "test")))
        channel.write(ByteBuffer(bytes: [UInt8](repeating: 0, count: 1_500)), promise: nil)
        // Bytes already in memory are counted even past the budget; new work is refused then.
        #expect(budget.inUse == 1_500)
        #expect(budget.isExhausted)
        #expect(!budget.reserve(1))
        channel.flush()
        #expect(budget.inUse == 0)
        _ = try channel.finish()
    }
}
