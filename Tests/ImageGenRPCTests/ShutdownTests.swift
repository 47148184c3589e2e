import ImageGenRPC
import ImageGenInterop
import ImageGenWire
import Logging
import ImageGenTestSupport
import Testing

@Suite("Graceful shutdown", .timeLimit(.minutes(2)), .hangWatchdog)
struct ShutdownTests {
    static func server(grace: Duration) -> RPCServer {
        var logger = Logger(label: "test-server")
        logger.logLevel = .critical
        return RPCServer(
            configuration: RPCServerConfiguration(shutdownGracePeriod: grace), router: TestService.router(), logger: logger)
    }

    @Test("goaway, new calls refused, unary calls finish, streams end UNAVAILABLE, run returns")
    func gracefulShutdown() async throws {
        let server = Self.server(grace: .seconds(30))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let port = try await server.listeningAddress.port
            let client = try await RPCClient.connect(host: "127.0.0.1", port: port)
            defer { client.close() }

            // The unary call's start is on the wire before the stream's (an `async let` could send it
            // after the shutdown, and be refused): the server reads a connection's frames in order,
            // so by the stream's first answer the unary call is open.
            let unary = try await client.serverStreaming(TestService.sleep, CallStatus(code: 600, message: ""), as: CallStatus.self)
            let stream = try await client.serverStreaming(TestService.oneThenHang, CallStatus(code: 0, message: ""), as: CallStatus.self)
            var iterator = stream.makeAsyncIterator()
            #expect(try await iterator.next()?.message == "first")

            let started = ContinuousClock.now
            server.beginGracefulShutdown()
            let error = await expectRPCError(.unavailable) { _ = try await iterator.next() }
            #expect(error?.message == "server shutting down")
            // New calls on the old connection are refused.
            await expectRPCError(.unavailable) {
                _ = try await client.unary(TestService.echo, CallStatus(code: 0, message: ""), as: CallStatus.self)
            }
            // The unary call in flight finishes normally.
            var answers: [CallStatus] = []
            for try await answer in unary { answers.append(answer) }
            #expect(answers.map(\.message) == ["slept"])
            try await group.waitForAll()
            // Well before the 30 s grace period: the server ended when the last call did, not by force.
            #expect(ContinuousClock.now - started < .seconds(20))
            // Nobody listens any more.
            await expectRPCError(.unavailable) { _ = try await RPCClient.connect(host: "127.0.0.1", port: port) }
        }
    }

    @Test("a handler that ignores shutdown is cut off after the grace period")
    func gracePeriodBound() async throws {
        let server = Self.server(grace: .milliseconds(500))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let port = try await server.listeningAddress.port
            let client = try await RPCClient.connect(host: "127.0.0.1", port: port)
            defer { client.close() }
            async let unary = client.unary(TestService.sleep, CallStatus(code: 60_000, message: ""), as: CallStatus.self)
            try await Task.sleep(for: .milliseconds(100))
            let started = ContinuousClock.now
            server.beginGracefulShutdown()
            try await group.waitForAll()
            #expect(ContinuousClock.now - started < .seconds(10), "cut off after the 0.5 s grace, not after the 60 s call")
            do {
                _ = try await unary
                Issue.record("the call should have been cut off")
            } catch let error as RPCError {
                #expect(error.code == .unavailable)
            }
        }
    }
}
