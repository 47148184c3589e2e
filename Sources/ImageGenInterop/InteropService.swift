public import ImageGenRPC
import ImageGenWire
import Synchronization

/// The interop service: one method for each kind of call and outcome, so that clients in any
/// language can be tested against the real server (like gRPC's interop test server). It reuses
/// protocol messages as payloads: `CallStatus` carries a number and a text, `CallStart.request`
/// carries bytes. Served by `imagegen-interop-server`; never part of `imagegen-server`.
///
/// | method | request | answer |
/// |---|---|---|
/// | `test.v1.Test/Echo` | CallStatus | the same CallStatus |
/// | `test.v1.Test/Large` | CallStatus{code: N} | CallStart{request: N bytes of 0xAB} |
/// | `test.v1.Test/Count` (stream) | CallStatus{code: N} | N × CallStatus{code: i, message: "message i"} |
/// | `test.v1.Test/Sleep` | CallStatus{code: ms} | sleeps, then CallStatus{message: "slept"} |
/// | `test.v1.Test/SleepIgnoringCancellation` | CallStatus{code: ms} | sleeps through cancellation |
/// | `test.v1.Test/Fail` | CallStatus{code, message} | ends the call with that status (code 0: answers the request, OK) |
/// | `test.v1.Test/ThrowPlain` | CallStatus | ends UNKNOWN "plain failure from the handler" |
/// | `test.v1.Test/OneThenHang` (stream) | CallStatus | one CallStatus{message: "first"}, then waits |
public enum TestService {
    public static let echo = "test.v1.Test/Echo"
    public static let large = "test.v1.Test/Large"
    public static let count = "test.v1.Test/Count"
    public static let sleep = "test.v1.Test/Sleep"
    public static let sleepIgnoringCancellation = "test.v1.Test/SleepIgnoringCancellation"
    public static let fail = "test.v1.Test/Fail"
    public static let throwPlain = "test.v1.Test/ThrowPlain"
    public static let oneThenHang = "test.v1.Test/OneThenHang"

    struct PlainError: Error, CustomStringConvertible {
        var description: String { "plain failure from the handler" }
    }

    /// Counts handlers that are running now, and the most that ever ran at once.
    public final class Gauge: Sendable {
        private let state = Mutex((running: 0, peak: 0, exited: 0))
        public init() {}
        func enter() { state.withLock { $0.running += 1; $0.peak = max($0.peak, $0.running) } }
        func exit() { state.withLock { $0.running -= 1; $0.exited += 1 } }
        public var running: Int { state.withLock { $0.running } }
        public var peak: Int { state.withLock { $0.peak } }
        public var exited: Int { state.withLock { $0.exited } }
    }

    /// A router with every interop method; `gauge` counts the sleeping and hanging handlers.
    public static func router(gauge: Gauge = Gauge()) -> RPCRouter {
        var router = RPCRouter()
        router.registerUnary(echo, CallStatus.self) { request, _ in request }
        router.registerUnary(large, CallStatus.self) { request, _ in
            CallStart(method: "large", request: [UInt8](repeating: 0xAB, count: Int(request.code)))
        }
        router.registerServerStreaming(count, CallStatus.self, CallStatus.self) { request, _, writer in
            for index in 0..<request.code {
                try await writer.send(CallStatus(code: index, message: "message \(index)"))
            }
        }
        router.registerUnary(sleep, CallStatus.self) { request, _ in
            gauge.enter()
            defer { gauge.exit() }
            try await Task.sleep(for: .milliseconds(Int(request.code)))
            return CallStatus(code: 0, message: "slept")
        }
        router.registerUnary(sleepIgnoringCancellation, CallStatus.self) { request, _ in
            gauge.enter()
            defer { gauge.exit() }
            let until = ContinuousClock.now + .milliseconds(Int(request.code))
            while ContinuousClock.now < until {
                try? await Task.sleep(for: .milliseconds(10))
            }
            return CallStatus(code: 0, message: "done")
        }
        router.registerUnary(fail, CallStatus.self) { request, _ -> CallStatus in
            // Code 0 is OK, not an error: the call answers the request back and ends OK.
            guard let error = RPCError(status: request) else { return request }
            throw error
        }
        router.registerUnary(throwPlain, CallStatus.self) { _, _ -> CallStatus in
            throw PlainError()
        }
        router.registerServerStreaming(oneThenHang, CallStatus.self, CallStatus.self) { _, _, writer in
            gauge.enter()
            defer { gauge.exit() }
            try await writer.send(CallStatus(code: 1, message: "first"))
            try await Task.sleep(for: .seconds(3600))
        }
        return router
    }
}
