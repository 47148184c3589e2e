import Foundation
import ImageGenRPC
import ImageGenInterop
import ImageGenWire
import ImageGenTestSupport
import Testing

/// A bad peer gets one connection-level status and a closed connection; the server keeps serving.
@Suite("Bad input", .timeLimit(.minutes(2)), .hangWatchdog)
struct BadInputTests {
    enum BadInput: String, CaseIterable, Sendable {
        case lengthAboveLimit, zeroLength, maxLength, randomBytes, undecodableFrame
        case truncatedFrameThenClose, messageFrameFromClient, statusFrameFromClient, goAwayFromClient
        case emptyKind, callIDZero, duplicateCallID
    }

    static let limit = 64 * 1024

    @Test("a bad peer is answered and closed, and the server still serves", arguments: BadInput.allCases)
    func badInput(_ input: BadInput) async throws {
        try await withServer(RPCServerConfiguration(maxFrameBytes: Self.limit)) { _, port in
            let (frames, closed) = try await RawConnection.with(port: port) { raw in
                switch input {
                case .lengthAboveLimit:
                    try await raw.send(FrameHeader.encode(length: Self.limit + 1))
                case .zeroLength:
                    try await raw.send([0, 0, 0, 0])
                case .maxLength:
                    try await raw.send([0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3])
                case .randomBytes:
                    var generator = SystemRandomNumberGenerator()
                    let body = (0..<200).map { _ in UInt8.random(in: 0...255, using: &generator) }
                    try await raw.send(FrameHeader.encode(length: body.count) + body)
                case .undecodableFrame:
                    try await raw.send(FrameHeader.encode(length: 3) + [0x0A, 0xFF, 0xFF])
                case .truncatedFrameThenClose:
                    let frame = Frame(callID: 1, kind: .start(CallStart(method: TestService.echo))).framedBytes()
                    try await raw.send(Array(frame.prefix(frame.count - 3)))
                    raw.close()
                    return ([Frame](), true)
                case .messageFrameFromClient:
                    try await raw.send(Frame(callID: 1, kind: .message([1, 2, 3])))
                case .statusFrameFromClient:
                    try await raw.send(Frame(callID: 1, kind: .status(CallStatus(code: 0, message: ""))))
                case .goAwayFromClient:
                    try await raw.send(Frame(callID: 0, kind: .goAway(reason: "bye")))
                case .emptyKind:
                    try await raw.send(Frame(callID: 3, kind: nil))
                case .callIDZero:
                    try await raw.send(Frame(callID: 0, kind: .start(CallStart(method: TestService.echo))))
                case .duplicateCallID:
                    let start = Frame(callID: 9, kind: .start(CallStart(
                        method: TestService.sleep, request: CallStatus(code: 5_000, message: "").serializedBytes())))
                    try await raw.send(start)
                    try await raw.send(start)
                }
                return try await raw.readUntilClosed()
            }
            #expect(closed, "the server closes the connection")
            if input != .truncatedFrameThenClose {
                let connectionStatus = frames.first { $0.callID == 0 }
                guard case .status(let status)? = connectionStatus?.kind else {
                    Issue.record("expected a connection-level status, got \(frames)")
                    return
                }
                #expect(status.code != 0)
                #expect(!status.message.isEmpty)
                if input == .lengthAboveLimit || input == .maxLength {
                    #expect(status.code == RPCError.Code.resourceExhausted.rawValue)
                    #expect(status.message.contains("exceeds the limit"))
                }
            }
            try await expectHealthy(port: port)
        }
    }

    @Test("a frame trickled byte by byte is cut off by the frame timeout")
    func trickledFrame() async throws {
        let configuration = RPCServerConfiguration(frameTimeout: .milliseconds(500))
        try await withServer(configuration) { _, port in
            let started = ContinuousClock.now
            let (frames, closed) = try await RawConnection.with(port: port) { raw in
                let frame = Frame(callID: 1, kind: .start(CallStart(method: TestService.echo, request: Array(repeating: 1, count: 400))))
                    .framedBytes()
                for byte in frame.prefix(200) where !raw.isClosed {
                    try? await raw.send([byte])
                    try await Task.sleep(for: .milliseconds(50))
                }
                return try await raw.readUntilClosed(timeout: .seconds(5))
            }
            #expect(closed)
            // Cut off after about the frame timeout, long before the trickle (200 × 50 ms) would end.
            #expect(ContinuousClock.now - started < .seconds(6))
            guard case .status(let status)? = frames.first?.kind else {
                Issue.record("expected a status, got \(frames)")
                return
            }
            #expect(status.code == RPCError.Code.deadlineExceeded.rawValue)
            try await expectHealthy(port: port)
        }
    }

    @Test("frames that arrive whole but slowly, one by one, are not cut off")
    func slowButWholeFrames() async throws {
        let configuration = RPCServerConfiguration(frameTimeout: .milliseconds(300))
        try await withServer(configuration) { _, port in
            try await RawConnection.with(port: port) { raw in
                for id in UInt64(1)...4 {
                    try await raw.send(Frame(callID: id, kind: .start(CallStart(
                        method: TestService.echo, request: CallStatus(code: UInt32(id), message: "").serializedBytes()))))
                    try await Task.sleep(for: .milliseconds(200))
                }
                let frames = try await raw.readFrames(8)
                #expect(frames.count == 8)
            }
        }
    }

    @Test("an idle connection is closed after the idle timeout, a busy one is not")
    func idleTimeout() async throws {
        let configuration = RPCServerConfiguration(idleTimeout: .milliseconds(600))
        try await withServer(configuration) { _, port in
            let (_, closed) = try await RawConnection.with(port: port) { raw in
                try await raw.readUntilClosed(timeout: .seconds(4))
            }
            #expect(closed)
            // A call longer than the idle timeout keeps its connection open.
            try await withClient(port: port) { client in
                let response = try await client.unary(TestService.sleep, CallStatus(code: 1500, message: ""), as: CallStatus.self)
                #expect(response.message == "slept")
            }
        }
    }

    @Test("connections over the limit are refused with RESOURCE_EXHAUSTED")
    func connectionLimit() async throws {
        try await withServer(RPCServerConfiguration(maxConnections: 2)) { _, port in
            try await withClient(port: port) { first in
                try await withClient(port: port) { second in
                    _ = try await first.unary(TestService.echo, CallStatus(code: 1, message: ""), as: CallStatus.self)
                    _ = try await second.unary(TestService.echo, CallStatus(code: 1, message: ""), as: CallStatus.self)
                    let (frames, closed) = try await RawConnection.with(port: port) { raw in try await raw.readUntilClosed() }
                    #expect(closed)
                    guard case .status(let status)? = frames.first?.kind else {
                        Issue.record("expected a status, got \(frames)")
                        return
                    }
                    #expect(status.code == RPCError.Code.resourceExhausted.rawValue)
                }
            }
        }
    }
}
