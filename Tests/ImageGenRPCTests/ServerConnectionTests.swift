@testable import ImageGenRPC
import ImageGenInterop
import ImageGenWire
import NIOCore
import NIOEmbedded
import ImageGenTestSupport
import Testing

/// The call life cycle of one connection, on `NIOAsyncTestingChannel` (no socket): every kind of
/// call and every way it ends, each with exactly one status.
@Suite("ServerConnection on NIOAsyncTestingChannel", .timeLimit(.minutes(2)), .hangWatchdog)
struct ServerConnectionTests {
    static let cancelled = RPCError.Code.cancelled.rawValue
    static let deadline = RPCError.Code.deadlineExceeded.rawValue

    /// A unary call: its request, and the messages and status it must end with.
    struct UnaryCase: Sendable, CustomTestStringConvertible {
        let method: String
        let request: CallStatus
        let messages: [CallStatus]
        let status: CallStatus
        var testDescription: String { "\(method) \(request.code)" }
    }

    static let unaryCases: [UnaryCase] = [
        UnaryCase(
            method: TestService.echo, request: CallStatus(code: 7, message: "echo me"),
            messages: [CallStatus(code: 7, message: "echo me")], status: CallStatus(code: 0, message: "")),
        UnaryCase(
            method: TestService.fail, request: CallStatus(code: 0, message: "OK is not an error"),
            messages: [CallStatus(code: 0, message: "OK is not an error")], status: CallStatus(code: 0, message: "")),
        UnaryCase(
            method: TestService.fail, request: CallStatus(code: 5, message: "no such thing"),
            messages: [], status: CallStatus(code: 5, message: "no such thing")),
        UnaryCase(
            method: TestService.throwPlain, request: CallStatus(code: 0, message: ""),
            messages: [], status: CallStatus(code: 2, message: "plain failure from the handler")),
        UnaryCase(
            method: "test.v1.Test/Missing", request: CallStatus(code: 0, message: ""),
            messages: [], status: CallStatus(code: 12, message: "method \"test.v1.Test/Missing\" is not implemented by this server")),
    ]

    @Test("a unary call answers its message and one status, or its error alone", arguments: unaryCases)
    func unary(_ testCase: UnaryCase) async throws {
        try await TestingConnection.with { connection in
            try await connection.start(1, testCase.method, testCase.request)
            let (messages, status) = try await connection.outcome(of: 1)
            #expect(messages == testCase.messages)
            #expect(status == testCase.status)
            try await connection.expectNothingWrittenBefore(pingNonce: 1)
        }
    }

    @Test("a server stream answers its messages in order, then OK", arguments: [0, 1, 5, 300])
    func serverStream(count: Int) async throws {
        try await TestingConnection.with { connection in
            try await connection.start(3, TestService.count, CallStatus(code: UInt32(count), message: ""))
            let (messages, status) = try await connection.outcome(of: 3)
            #expect(messages == (0..<UInt32(count)).map { CallStatus(code: $0, message: "message \($0)") })
            #expect(status == CallStatus(code: 0, message: ""))
        }
    }

    /// A call that runs until something ends it: its method, its request, whether it answers a
    /// first message before it waits.
    struct WaitingCall: Sendable, CustomTestStringConvertible {
        let method: String
        let request: CallStatus
        let answersFirst: Bool
        var testDescription: String { method }
    }

    static let waitingCalls = [
        WaitingCall(method: TestService.oneThenHang, request: CallStatus(code: 0, message: ""), answersFirst: true),
        WaitingCall(method: TestService.sleep, request: CallStatus(code: 3_600_000, message: ""), answersFirst: false),
    ]

    /// Starts `call` on `callID` and waits until its handler runs (its first message, or the gauge).
    static func startWaiting(_ call: WaitingCall, _ callID: UInt64, timeoutMs: UInt32 = 0, on connection: TestingConnection, gauge: TestService.Gauge) async throws {
        try await connection.start(callID, call.method, call.request, timeoutMs: timeoutMs)
        if call.answersFirst {
            let first = try await connection.nextWrite()
            #expect(first.map(\.callID) == [callID])
            #expect(first.first?.isStatus == false)
        }
        let until = ContinuousClock.now + .seconds(30)
        while gauge.running == 0, ContinuousClock.now < until { await Task.yield() }
        #expect(gauge.running == 1)
    }

    @Test("a cancel ends the call CANCELLED and stops its handler; a second cancel is ignored", arguments: waitingCalls)
    func cancel(_ call: WaitingCall) async throws {
        let gauge = TestService.Gauge()
        try await TestingConnection.with(router: TestService.router(gauge: gauge)) { connection in
            try await Self.startWaiting(call, 9, on: connection, gauge: gauge)
            try await connection.send(Frame(callID: 9, kind: .cancel))
            let (_, status) = try await connection.outcome(of: 9)
            #expect(status == CallStatus(code: Self.cancelled, message: "call cancelled by the client"))
            try await connection.send(Frame(callID: 9, kind: .cancel))
            try await connection.expectNothingWrittenBefore(pingNonce: 2)
        }
        #expect(gauge.running == 0 && gauge.exited == 1)
    }

    @Test("a call's timeout ends it DEADLINE_EXCEEDED and stops its handler", arguments: waitingCalls)
    func deadline(_ call: WaitingCall) async throws {
        let gauge = TestService.Gauge()
        try await TestingConnection.with(router: TestService.router(gauge: gauge)) { connection in
            try await connection.start(4, call.method, call.request, timeoutMs: 150)
            let (messages, status) = try await connection.outcome(of: 4)
            #expect(messages.count == (call.answersFirst ? 1 : 0))
            #expect(status == CallStatus(code: Self.deadline, message: "deadline of 150 ms exceeded"))
        }
        #expect(gauge.running == 0 && gauge.exited == 1)
    }

    @Test(
        "when the client's input ends, open calls are stopped (their handlers exit) and the connection finishes; no status goes to a peer that is gone",
        arguments: waitingCalls)
    func inputClosed(_ call: WaitingCall) async throws {
        let gauge = TestService.Gauge()
        let channel = try await TestingConnection.with(router: TestService.router(gauge: gauge)) { connection in
            try await Self.startWaiting(call, 5, on: connection, gauge: gauge)
            connection.channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
            // The input's end alone stops the handler, while the channel is still open.
            let until = ContinuousClock.now + .seconds(30)
            while gauge.exited == 0, ContinuousClock.now < until { try await Task.sleep(for: .milliseconds(5)) }
            #expect(gauge.exited == 1)
            #expect(connection.channel.isActive)
            return connection.channel
        }
        #expect(gauge.running == 0 && gauge.exited == 1)
        let after = try await channel.readOutbound(as: OutboundFrames.self)
        #expect(after == nil, "written after the input ended: \(after.map { try? TestingConnection.frames(of: $0) } as Any)")
    }

    /// A frame a client may not send, and what the connection says before it closes.
    struct BadFrame: Sendable, CustomTestStringConvertible {
        let name: String
        let frame: Frame
        let message: String
        var testDescription: String { name }
    }

    static let badFrames = [
        BadFrame(name: "message", frame: Frame(callID: 1, kind: .message([1])), message: "a client may not send message frames (call 1)"),
        BadFrame(
            name: "status", frame: Frame(callID: 2, kind: .status(CallStatus(code: 0, message: ""))),
            message: "a client may not send status frames (call 2)"),
        BadFrame(name: "goaway", frame: Frame(callID: 0, kind: .goAway(reason: "x")), message: "a client may not send goaway frames"),
        BadFrame(name: "no kind", frame: Frame(callID: 3, kind: nil), message: "frame for call 3 carries no kind"),
        BadFrame(
            name: "start on call 0", frame: Frame(callID: 0, kind: .start(CallStart(method: TestService.echo))),
            message: "call id 0 is reserved for the connection; calls use a nonzero id"),
        BadFrame(
            name: "start on an open call", frame: Frame(callID: 8, kind: .start(CallStart(method: TestService.echo))),
            message: "call id 8 is already open on this connection"),
    ]

    @Test("a frame a client may not send: one status on call 0, INVALID_ARGUMENT, then the connection closes and its calls stop", arguments: badFrames)
    func badFrame(_ bad: BadFrame) async throws {
        let gauge = TestService.Gauge()
        try await TestingConnection.with(router: TestService.router(gauge: gauge)) { connection in
            try await Self.startWaiting(Self.waitingCalls[0], 8, on: connection, gauge: gauge)
            try await connection.send(bad.frame)
            let frames = try await connection.frames(until: 0)
            #expect(frames.last == Frame(callID: 0, kind: .status(CallStatus(code: RPCError.Code.invalidArgument.rawValue, message: bad.message))))
            try await connection.channel.closeFuture.get()
        }
        #expect(gauge.running == 0 && gauge.exited == 1)
    }

    @Test("a ping is answered with a pong of the same nonce, on call 0", arguments: [0, 1, UInt64.max])
    func ping(nonce: UInt64) async throws {
        try await TestingConnection.with { connection in
            try await connection.expectNothingWrittenBefore(pingNonce: nonce)
        }
    }

    @Test("calls over maxCallsPerConnection are refused RESOURCE_EXHAUSTED; the open ones go on", arguments: [1, 3])
    func callLimit(limit: Int) async throws {
        let gauge = TestService.Gauge()
        var configuration = RPCServerConfiguration()
        configuration.maxCallsPerConnection = limit
        try await TestingConnection.with(configuration, router: TestService.router(gauge: gauge)) { connection in
            for id in 1...UInt64(limit) {
                try await connection.start(id, TestService.oneThenHang)
                _ = try await connection.nextWrite()
            }
            try await connection.start(100, TestService.echo)
            let (_, refused) = try await connection.outcome(of: 100)
            #expect(refused == CallStatus(
                code: RPCError.Code.resourceExhausted.rawValue,
                message: "too many open calls on this connection (limit \(limit)): wait for one to end"))
            #expect(gauge.running == limit)
        }
    }

    @Test("a graceful shutdown: goaway, open streams end UNAVAILABLE, then the connection closes once its calls are done")
    func shutdown() async throws {
        let gauge = TestService.Gauge()
        try await TestingConnection.with(router: TestService.router(gauge: gauge)) { connection in
            try await Self.startWaiting(Self.waitingCalls[0], 6, on: connection, gauge: gauge)
            connection.connection.beginShutdown()
            let frames = try await connection.frames(until: 6)
            #expect(frames.first == Frame(callID: 0, kind: .goAway(reason: "server shutting down")))
            #expect(frames.last == Frame(callID: 6, kind: .status(CallStatus(code: RPCError.Code.unavailable.rawValue, message: "server shutting down"))))
            try await connection.channel.closeFuture.get()
        }
        #expect(gauge.running == 0 && gauge.exited == 1)
    }
}
