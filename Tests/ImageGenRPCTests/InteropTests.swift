import Foundation
import ImageGenRPC
import ImageGenInterop
import ImageGenWire
import ImageGenTestSupport
import Testing

/// gRPC's interop cases, adapted to this protocol, over real TCP on loopback.
@Suite("Interop", .timeLimit(.minutes(2)), .hangWatchdog)
struct InteropTests {
    @Test("empty unary: Health/Check answers SERVING")
    func emptyUnary() async throws {
        try await withServer { _, port in try await expectHealthy(port: port) }
    }

    @Test("health: known services SERVING, unknown NOT_FOUND")
    func healthServices() async throws {
        var router = TestService.router()
        router.registerUnary("other.v1.Thing/Do", CallStatus.self) { request, _ in request }
        try await withServer(router: router) { _, port in
            try await withClient(port: port) { client in
                for service in ["", "imagegen.v1.Health", "test.v1.Test", "other.v1.Thing"] {
                    let response = try await client.unary(
                        RPCServer.healthCheckMethod, HealthCheckRequest(service: service), as: HealthCheckResponse.self)
                    #expect(response.status == .serving, "service \(service)")
                }
                let error = await expectRPCError(.notFound) {
                    _ = try await client.unary(
                        RPCServer.healthCheckMethod, HealthCheckRequest(service: "nope.v1.X"), as: HealthCheckResponse.self)
                }
                #expect(error?.message.contains("nope.v1.X") == true)
            }
        }
    }

    @Test("large unary near the frame limit, and one just over it", arguments: [true, false])
    func largeUnary(fits: Bool) async throws {
        let limit = 1024 * 1024
        try await withServer(RPCServerConfiguration(maxFrameBytes: limit)) { _, port in
            let client = try await RPCClient.connect(host: "127.0.0.1", port: port, configuration: .init(maxFrameBytes: limit))
            defer { client.close() }
            let size = fits ? limit - 64 : limit
            if fits {
                let response = try await client.unary(
                    TestService.large, CallStatus(code: UInt32(size), message: ""), as: CallStart.self)
                #expect(response.request.count == size)
                #expect(response.request.allSatisfy { $0 == 0xAB })
            } else {
                await expectRPCError(.resourceExhausted) {
                    _ = try await client.unary(TestService.large, CallStatus(code: UInt32(size), message: ""), as: CallStart.self)
                }
                // The connection survives a refused response.
                let echo = try await client.unary(TestService.echo, CallStatus(code: 7, message: "still here"), as: CallStatus.self)
                #expect(echo.message == "still here")
            }
        }
    }

    @Test("server streaming delivers every message in order", arguments: [0, 1, 1000])
    func serverStreaming(count: Int) async throws {
        try await withServer { _, port in
            try await withClient(port: port) { client in
                let stream = try await client.serverStreaming(
                    TestService.count, CallStatus(code: UInt32(count), message: ""), as: CallStatus.self)
                var received: [UInt32] = []
                for try await message in stream { received.append(message.code) }
                #expect(received == (0..<UInt32(count)).map { $0 })
            }
        }
    }

    @Test("status code and message round-trip", arguments: Array(1...16))
    func statusRoundTrip(code: Int) async throws {
        let message = "code \(code):\ttab\nnewline — ünïcödé 🎨🖼️ \"quotes\" \\ end"
        try await withServer { _, port in
            try await withClient(port: port) { client in
                let error = await expectRPCError(try #require(RPCError.Code(rawValue: UInt32(code)))) {
                    _ = try await client.unary(TestService.fail, CallStatus(code: UInt32(code), message: message), as: CallStatus.self)
                }
                #expect(error?.message == message)
            }
        }
    }

    @Test("unimplemented method")
    func unimplemented() async throws {
        try await withServer { _, port in
            try await withClient(port: port) { client in
                let error = await expectRPCError(.unimplemented) {
                    _ = try await client.unary("test.v1.Test/Nope", CallStatus(code: 0, message: ""), as: CallStatus.self)
                }
                #expect(error?.message.contains("test.v1.Test/Nope") == true)
            }
        }
    }

    @Test("a handler's plain error ends the call UNKNOWN with its description")
    func unmappedError() async throws {
        try await withServer { _, port in
            try await withClient(port: port) { client in
                let error = await expectRPCError(.unknown) {
                    _ = try await client.unary(TestService.throwPlain, CallStatus(code: 0, message: ""), as: CallStatus.self)
                }
                #expect(error?.message == "plain failure from the handler")
            }
        }
    }

    @Test("a request that does not decode is INVALID_ARGUMENT naming the method")
    func undecodableRequest() async throws {
        try await withServer { _, port in
            try await RawConnection.with(port: port) { raw in
            try await raw.send(Frame(callID: 1, kind: .start(CallStart(method: TestService.echo, request: [0xFF, 0xFF, 0xFF]))))
            let frames = try await raw.readFrames(1)
            guard case .status(let status)? = frames.first?.kind else {
                Issue.record("expected a status, got \(frames)")
                return
            }
            #expect(status.code == RPCError.Code.invalidArgument.rawValue)
            #expect(status.message.contains(TestService.echo))
            }
        }
    }

    @Test("unauthenticated: missing or wrong token refused, right token accepted")
    func authentication() async throws {
        let token = "s3cret-token-value"
        try await withServer(RPCServerConfiguration(authToken: token)) { _, port in
            for wrong in [nil, "wrong", "s3cret-token-valu", "s3cret-token-value-longer", ""] as [String?] {
                try await withClient(port: port, token: wrong) { client in
                    let error = await expectRPCError(.unauthenticated) {
                        _ = try await client.unary(TestService.echo, CallStatus(code: 1, message: "x"), as: CallStatus.self)
                    }
                    #expect(error?.message.contains(token) == false)
                }
            }
            try await withClient(port: port, token: token) { client in
                let echo = try await client.unary(TestService.echo, CallStatus(code: 1, message: "x"), as: CallStatus.self)
                #expect(echo.message == "x")
            }
        }
    }

    @Test("timeout on a sleeping handler ends the call with DEADLINE_EXCEEDED")
    func timeout() async throws {
        try await withServer { _, port in
            try await withClient(port: port) { client in
                let started = ContinuousClock.now
                await expectRPCError(.deadlineExceeded) {
                    _ = try await client.unary(
                        TestService.sleep, CallStatus(code: 10_000, message: ""), as: CallStatus.self, timeout: .milliseconds(200))
                }
                #expect(ContinuousClock.now - started < .seconds(8), "long before the handler's 10 s sleep")
                // A call within its deadline is unaffected.
                let ok = try await client.unary(
                    TestService.sleep, CallStatus(code: 10, message: ""), as: CallStatus.self, timeout: .seconds(5))
                #expect(ok.message == "slept")
            }
        }
    }

    @Test("cancel after begin: the server ends the call CANCELLED promptly and the handler stops")
    func cancelAfterBegin() async throws {
        let gauge = TestService.Gauge()
        try await withServer(router: TestService.router(gauge: gauge)) { _, port in
            try await RawConnection.with(port: port) { raw in
            try await raw.send(Frame(callID: 5, kind: .start(CallStart(method: TestService.sleep, request: CallStatus(code: 60_000, message: "").serializedBytes()))))
            try await Task.sleep(for: .milliseconds(100))
            let started = ContinuousClock.now
            try await raw.send(Frame(callID: 5, kind: .cancel))
            let frames = try await raw.readFrames(1)
            // Promptly: long before the handler's 60 s sleep would end (generous for a loaded machine).
            #expect(ContinuousClock.now - started < .seconds(10))
            #expect(frames.first == Frame(callID: 5, kind: .status(CallStatus(code: 1, message: "call cancelled by the client"))))
            try await Task.sleep(for: .milliseconds(200))
            #expect(gauge.running == 0)
            }
        }
    }

    @Test("cancel after first response: the client's cancellation reaches the server")
    func cancelAfterFirstResponse() async throws {
        let gauge = TestService.Gauge()
        try await withServer(router: TestService.router(gauge: gauge)) { _, port in
            try await withClient(port: port) { client in
                await withThrowingTaskGroup(of: Void.self) { group in
                    let gotFirst = AsyncStream.makeStream(of: Void.self)
                    group.addTask {
                        let stream = try await client.serverStreaming(
                            TestService.oneThenHang, CallStatus(code: 0, message: ""), as: CallStatus.self)
                        for try await message in stream {
                            #expect(message.message == "first")
                            gotFirst.continuation.yield()
                        }
                    }
                    for await _ in gotFirst.stream { break }
                    #expect(gauge.running == 1)
                    group.cancelAll()
                    try? await group.waitForAll()
                }
                let deadline = ContinuousClock.now + .seconds(10)
                while gauge.running > 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
                #expect(gauge.running == 0)
                // The connection still serves.
                let echo = try await client.unary(TestService.echo, CallStatus(code: 2, message: "after"), as: CallStatus.self)
                #expect(echo.message == "after")
            }
        }
    }

    @Test("100 concurrent calls on one connection")
    func concurrentCalls() async throws {
        try await withServer { _, port in
            try await withClient(port: port) { client in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for index in 0..<100 {
                        group.addTask {
                            if index % 2 == 0 {
                                let echo = try await client.unary(
                                    TestService.echo, CallStatus(code: UInt32(index), message: "call \(index)"), as: CallStatus.self)
                                #expect(echo == CallStatus(code: UInt32(index), message: "call \(index)"))
                            } else {
                                var count = 0
                                let stream = try await client.serverStreaming(
                                    TestService.count, CallStatus(code: 20, message: ""), as: CallStatus.self)
                                for try await message in stream {
                                    #expect(message.code == UInt32(count))
                                    count += 1
                                }
                                #expect(count == 20)
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
        }
    }

    @Test("50 connections at once")
    func manyConnections() async throws {
        try await withServer { _, port in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<50 {
                    group.addTask {
                        try await withClient(port: port) { client in
                            let echo = try await client.unary(
                                TestService.sleep, CallStatus(code: 50, message: ""), as: CallStatus.self)
                            #expect(echo.message == "slept", "connection \(index)")
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
    }

    @Test("ping is answered with pong")
    func ping() async throws {
        try await withServer { _, port in
            try await withClient(port: port) { client in
                for _ in 0..<3 { try await client.ping() }
            }
            try await RawConnection.with(port: port) { raw in
            try await raw.send(Frame(callID: 0, kind: .ping(nonce: UInt64.max)))
            let frames = try await raw.readFrames(1)
            #expect(frames == [Frame(callID: 0, kind: .pong(nonce: UInt64.max))])
            }
        }
    }

    @Test("open calls are capped per connection until their handlers really exit")
    func callLimit() async throws {
        let gauge = TestService.Gauge()
        let configuration = RPCServerConfiguration(maxCallsPerConnection: 4)
        try await withServer(configuration, router: TestService.router(gauge: gauge)) { _, port in
            try await RawConnection.with(port: port) { raw in
            let sleep = CallStatus(code: 800, message: "").serializedBytes()
            // Start and cancel many handlers that ignore cancellation: only 4 may ever run.
            for id in UInt64(1)...20 {
                try await raw.send(Frame(callID: id, kind: .start(CallStart(method: TestService.sleepIgnoringCancellation, request: sleep))))
                try await raw.send(Frame(callID: id, kind: .cancel))
            }
            let frames = try await raw.readFrames(20)
            #expect(gauge.peak <= 4)
            let codes = frames.compactMap { frame -> UInt32? in
                if case .status(let status) = frame.kind { return status.code }
                return nil
            }
            #expect(codes.count == 20)
            #expect(codes.filter { $0 == RPCError.Code.resourceExhausted.rawValue }.count >= 16)
            #expect(codes.filter { $0 == RPCError.Code.cancelled.rawValue }.count <= 4)
            }
        }
    }

    @Test("a connection that drops mid-call ends the call with UNAVAILABLE")
    func droppedConnection() async throws {
        // A peer that accepts, reads the call and closes the connection without a status.
        try await withClosingPeer { port in
            try await withClient(port: port) { client in
                await expectRPCError(.unavailable) {
                    let stream = try await client.serverStreaming(
                        TestService.count, CallStatus(code: 10, message: ""), as: CallStatus.self)
                    for try await _ in stream {}
                }
                await expectRPCError(.unavailable) {
                    _ = try await client.unary(TestService.echo, CallStatus(code: 0, message: ""), as: CallStatus.self)
                }
            }
        }
    }
}
