import Foundation
import ImageGenCoordination
import ImageGenEngine
import ImageGenTestSupport
import Testing

/// `scripts/local-postgres`, the README's one command for trying several servers: run as a real
/// process, it prints a URL a server connects with (verified TLS with `--tls`), and Ctrl-C
/// (SIGINT) stops PostgreSQL and deletes its data.
@Suite(.timeLimit(.minutes(2)), .hangWatchdog)
struct LocalPostgresScriptTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test(arguments: [false, true])
    func itPrintsAURLThatConnectsAndCleansUpWhenStopped(tls: Bool) async throws {
        let (script, url) = try await Self.start(tls: tls)
        #expect(url.contains("sslmode=verify-full&sslrootcert=/") == tls, "\(url)")
        var settings = try CoordinationSettings(url: url)
        settings.reconnectDelay = .milliseconds(100)
        let database = CoordinationDatabase(settings: settings, logger: CoordinationRig.logger)
        let encrypted = try await CoordinationDatabase.whileRunning([database]) { () -> Bool? in
            try? await database.withConnection { connection in
                try await connection.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").first?.decode(Bool.self)
            }
        }
        #expect(encrypted == tls, "connected: \(encrypted.map(String.init) ?? "no"); \(database.problem ?? "")")
        // "listening on Unix socket "/tmp/imagegen-postgres.XXXXXX/.s.PGSQL.PORT"": its directory.
        let socketLine = try #require(script.stderr.split(separator: "\n").first { $0.contains("listening on Unix socket") })
        let directory = try #require(socketLine.split(separator: "\"").first { $0.hasPrefix("/tmp/imagegen-postgres.") })
            .split(separator: "/").prefix(2).joined(separator: "/")
        #expect(FileManager.default.fileExists(atPath: "/\(directory)/data/PG_VERSION"), "\(socketLine)")
        let status = try await script.stop(signal: SIGINT, timeout: .seconds(20))
        #expect(status == 0, "exit \(status): \(script.stderr.suffix(1_000))")
        #expect(script.stderr.contains("database system is shut down"), "\(script.stderr.suffix(1_000))")
        #expect(!FileManager.default.fileExists(atPath: "/\(directory)"), "/\(directory) is still there")
    }

    /// Starts the script on a free port (another when the first is taken); the URL it printed.
    static func start(tls: Bool) async throws -> (ChildProcess, String) {
        var lastOutput = ""
        for _ in 0..<5 {
            let port = Int.random(in: 20_000...31_999)
            let script = try ChildProcess(
                "/bin/bash", arguments: ["scripts/local-postgres"] + (tls ? ["--tls"] : []) + ["\(port)"], directory: packageRoot)
            let deadline = ContinuousClock.now + .seconds(60)
            while !script.stderr.contains("ready to accept connections"), script.isRunning, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            let line = script.stdout.split(separator: "\n").first { $0.hasPrefix("local-postgres: postgres://") }
            if script.stderr.contains("ready to accept connections"), let line,
                let url = line.dropFirst("local-postgres: ".count).split(separator: " ").first {
                return (script, String(url))
            }
            lastOutput = script.stdout + script.stderr
            _ = try? await script.stop(signal: SIGINT, timeout: .seconds(20))
        }
        throw ChildProcess.ProcessFailure(message: "scripts/local-postgres did not start: \(lastOutput.suffix(2_000))")
    }
}
