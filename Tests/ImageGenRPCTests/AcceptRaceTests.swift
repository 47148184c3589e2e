import Foundation
import ImageGenRPC
import ImageGenTestSupport
import ImageGenWire
import Logging
import Testing

/// Connections that race a server's start and stop. NIO's async server bootstrap wraps an accepted
/// connection before the serving loop takes it; one the loop never took used to trap the whole
/// process ("Deinited NIOAsyncWriter without calling finish()", in `NIOAsyncChannelHandler.channelActive`).
/// A crash of the test process is this suite's failure.
@Suite("Accept races a shutdown", .serialized, .timeLimit(.minutes(3)), .hangWatchdog)
struct AcceptRaceTests {
    /// How a server is stopped while clients connect.
    enum Stop: String, CaseIterable, Sendable {
        /// Its `run()` task is cancelled.
        case cancel
        /// `beginGracefulShutdown()`, as a ServiceGroup does on SIGTERM.
        case graceful
    }

    @Test("servers start and stop 300 times while 8 clients connect and disconnect in a tight loop", arguments: Stop.allCases)
    func startStopUnderConnectionStorm(stop: Stop) async throws {
        var logger = Logger(label: "accept-race")
        logger.logLevel = .critical
        var served = 0
        for round in 0..<300 {
            let server = RPCServer(configuration: RPCServerConfiguration(shutdownGracePeriod: .seconds(5)), router: RPCRouter(), logger: logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await server.run() }
                let port = try await server.listeningAddress.port
                try await ConnectionStorm.run(port: port, sending: round.isMultiple(of: 2) ? Self.ping : []) { storm in
                    // Stop the server as soon as connections are coming in, at a moment that varies.
                    try await storm.waitForConnections(1 + round % 4)
                    served += storm.connected
                    switch stop {
                    case .cancel: group.cancelAll()
                    case .graceful: server.beginGracefulShutdown()
                    }
                    // Keep connecting while the server stops: run() returns with the storm still on.
                    do {
                        try await group.next()
                    } catch is CancellationError {
                        // run() of a cancelled server ends with the cancellation.
                    }
                }
            }
        }
        // The storm really hit live servers (every round waited for at least one connection).
        #expect(served >= 300)
    }

    @Test("imagegen-server exits 0 on SIGTERM while clients connect, 20 times, never by a signal")
    func sigtermDuringConnectionStorm() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("accept-race-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let projects = root.appendingPathComponent("projects")
        try FileManager.default.createDirectory(at: projects, withIntermediateDirectories: true)
        for round in 0..<20 {
            let server = try ChildProcess(
                "imagegen-server",
                arguments: [
                    "--listen", "127.0.0.1:0", "--projects-root", projects.path, "--state-dir", root.appendingPathComponent("state-\(round)").path,
                ])
            let port = try await server.port()
            let (status, connected) = try await ConnectionStorm.run(port: port, sending: round.isMultiple(of: 2) ? Self.ping : []) { storm in
                // SIGTERM once connections are coming in (on a loaded machine, after what came within 30 s).
                try await storm.waitForConnections(20, timeout: .seconds(30))
                let connected = storm.connected
                return (try await server.stop(signal: SIGTERM), connected)
            }
            #expect(connected >= 1, "round \(round): the storm never reached the server")
            #expect(status == 0, "round \(round): exit status \(status); stderr: \(server.stderr.suffix(2000))")
            #expect(!server.stderr.contains("Fatal error"), "round \(round): \(server.stderr.suffix(2000))")
        }
    }

    /// A whole ping frame, so that some connections have bytes in flight when they race the stop.
    static let ping: [UInt8] = Frame(callID: 0, kind: .ping(nonce: 7)).framedBytes()
}
