import Foundation
import ImageGenRPC
import ImageGenTestSupport
import ImageGenWire
import Testing

/// The `imagegen-server` executable as a real process on loopback.
@Suite("imagegen-server process", .timeLimit(.minutes(2)), .hangWatchdog)
struct ServerExecutableTests {
    @Test("prints its address, serves Health, exits 0 on SIGTERM and on SIGINT", arguments: [SIGTERM, SIGINT])
    func startServeStop(signal: Int32) async throws {
        let server = try ChildProcess("imagegen-server", arguments: ["--listen", "127.0.0.1:0"])
        let port = try await server.port()
        try await expectHealthy(port: port)
        let started = ContinuousClock.now
        #expect(try await server.stop(signal: signal) == 0)
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test("the token comes from IMAGEGEN_AUTH_TOKEN, is enforced, and is never logged")
    func tokenFromEnvironment() async throws {
        let token = "tok-\(UInt64.random(in: 1...UInt64.max))"
        let server = try ChildProcess(
            "imagegen-server", arguments: ["--listen", "127.0.0.1:0", "--log-level", "trace"], environment: ["IMAGEGEN_AUTH_TOKEN": token])
        let port = try await server.port()
        try await withClient(port: port) { client in
            await expectRPCError(.unauthenticated) {
                _ = try await client.unary(RPCServer.healthCheckMethod, HealthCheckRequest(), as: HealthCheckResponse.self)
            }
        }
        try await withClient(port: port, token: token) { client in
            let response = try await client.unary(RPCServer.healthCheckMethod, HealthCheckRequest(), as: HealthCheckResponse.self)
            #expect(response.status == .serving)
        }
        #expect(try await server.stop() == 0)
        #expect(!server.stderr.contains(token))
        #expect(!server.stdout.contains(token))
        #expect(server.stderr.contains("authentication on"))
    }

    @Test("bad flags are refused with a message naming them", arguments: [
        (["--listen", "nonsense"], "--listen"),
        (["--listen", "127.0.0.1:70000"], "--listen"),
        (["--max-frame-bytes", "0"], "--max-frame-bytes"),
        (["--frame-timeout", "-1"], "--frame-timeout"),
        (["--log-level", "loud"], "--log-level"),
    ])
    func badFlags(arguments: [String], named: String) async throws {
        let server = try ChildProcess("imagegen-server", arguments: arguments)
        let status = try await server.waitForExit()
        #expect(status != 0)
        #expect(server.stderr.contains(named), "stderr: \(server.stderr)")
    }

    @Test("a port already in use is reported, not hung on")
    func portInUse() async throws {
        let first = try ChildProcess("imagegen-server", arguments: ["--listen", "127.0.0.1:0"])
        let port = try await first.port()
        let second = try ChildProcess("imagegen-server", arguments: ["--listen", "127.0.0.1:\(port)"])
        #expect(try await second.waitForExit() != 0)
        #expect(second.stderr.contains("\(port)"), "stderr: \(second.stderr)")
        #expect(try await first.stop() == 0)
    }
}
