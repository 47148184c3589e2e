import FakeGemini
import Foundation
import ImageGenClient
import ImageGenTestSupport
import ImageGenWire
import Logging
import Testing

extension ProofTests {
    static let sharedKey = "AIzaSharedQuotaKey0002"

    /// Two `imagegen-server` processes with `--coordination` on one PostgreSQL cluster (started by
    /// the test), each pacing at 98 % of the fake's quota on its own, render a project each on the
    /// same key: the fake refuses at most 0.5 % of what they send, both jobs complete, and each
    /// announces the database it shares its quotas through, without a password. The quota is 100
    /// requests per 10 s window: each server alone would fill it in 5 s, and the pace's 2 % margin
    /// is 200 ms of a request arriving late on a loaded machine.
    @Test(.timeLimit(.minutes(2)))
    func twoServersShareOneQuotaThroughPostgreSQL() async throws {
        let quiet = Logger(label: "fake-gemini", factory: { _ in SwiftLogNoOpLogHandler() })
        let fake = FakeGeminiServer(
            configuration: FakeGeminiConfiguration(
                keys: [Self.sharedKey: "shared-1"], limiter: .slidingWindow(requests: 100, window: .seconds(10)),
                latency: .milliseconds(100)),
            logger: quiet)
        let fakePort = try await fake.start()
        defer { Task { try? await fake.shutdown() } }
        let beats = 60
        try await PostgresCluster.with { cluster in
            let workspaces = try (0..<2).map { index in
                let workspace = try ProofWorkspace("coordination-\(index)")
                try workspace.makeProject(
                    "film", storyboard: ProofStoryboard(shots: [(id: "1", beats: (1...beats).map { ("\($0)", "server \(index) pier \($0)", "cut") })]))
                try workspace.writeConfig(
                    #"{"durability":"none","requestsPerMinute":588,"maxInFlightPerProject":8,"retry":{"baseDelaySeconds":0.05}}"#)
                return workspace
            }
            defer { for workspace in workspaces { workspace.remove() } }
            let url = cluster.url.replacingOccurrences(of: "imagegen@", with: "imagegen:not-a-real-password@")
            var servers: [ServerLauncher.Running] = []
            do {
                try await Self.shareOneQuota(&servers, workspaces: workspaces, url: url, cluster: cluster, fake: fake, fakePort: fakePort, beats: beats)
            } catch {
                for server in servers { _ = try? await server.process.stop(signal: SIGKILL, timeout: .seconds(5)) }
                throw error
            }
        }
    }

    private static func shareOneQuota(
        _ servers: inout [ServerLauncher.Running], workspaces: [ProofWorkspace], url: String, cluster: PostgresCluster,
        fake: FakeGeminiServer, fakePort: Int, beats: Int
    ) async throws {
        for (index, workspace) in workspaces.enumerated() {
            servers.append(
                try await ServerLauncher(
                    arguments: workspace.serverArguments(config: true) + ["--server-id", "render-\(index)"],
                    environment: [
                        "IMAGEGEN_GEMINI_BASE_URL": "http://127.0.0.1:\(fakePort)",
                        "IMAGEGEN_KEYS_ILLUSTRATION": "shared-1:\(Self.sharedKey)", "IMAGEGEN_DATABASE_URL": url,
                    ]
                ).launch())
        }
        for (index, server) in servers.enumerated() {
            let announced = "coordination postgres://imagegen@127.0.0.1:\(cluster.port)/postgres (server render-\(index))"
            #expect(server.process.stdout.contains(announced), "\(server.process.stdout)")
            #expect(!server.process.stdout.contains("not-a-real-password") && !server.process.stderr.contains("not-a-real-password"))
        }
        let finished = try await withThrowingTaskGroup(of: JobFinished?.self) { group in
            for server in servers {
                group.addTask {
                    let client = try await ServerLauncher.client(server)
                    defer { client.close() }
                    let events = try await EventStreams.collect(
                        try await client.startGeneration(
                            StartGenerationRequest(projectDir: "film", styles: ["illustration"]), timeout: .seconds(90)))
                    return EventStreams.finished(events)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(finished.allSatisfy { $0?.state == .completed }, "\(finished)")
        let log = fake.requestLog()
        let refused = log.filter { $0.status == 429 }.count
        #expect(log.filter { $0.status == 200 }.count == 2 * beats)
        #expect(Double(refused) <= 0.005 * Double(log.count), "\(refused) of \(log.count) refused")
        for server in servers { #expect(await ServerLauncher.stop(server.process) == 0) }
        servers.removeAll()
    }

    /// A coordination URL that cannot be used stops the server before it serves, with what is
    /// wrong, and never repeats the URL's password.
    @Test(arguments: [
        (["--coordination", "mysql://imagegen:hunter22@127.0.0.1/imagegen"], [:], "--coordination: the coordination URL must be a URL like postgres://"),
        (["--coordination", "postgres://imagegen:hunter22@127.0.0.1:5432"], [:], "--coordination: the coordination URL names no database"),
        (["--coordination", "postgres://:hunter22@127.0.0.1/imagegen"], [:], "--coordination: the coordination URL names no user"),
        ([], ["IMAGEGEN_DATABASE_URL": "postgres://imagegen:hunter22@127.0.0.1:99999/imagegen"], "IMAGEGEN_DATABASE_URL: the coordination URL port 99999"),
        (["--server-id", ""], [:], "--server-id must be 1 to 48 printable ASCII characters"),
    ])
    func unusableCoordinationIsRefused(arguments extra: [String], environment: [String: String], refusal: String) async throws {
        let workspace = try ProofWorkspace("coordination-flag")
        defer { workspace.remove() }
        var merged = ServerLauncher.clearedEnvironment
        for (key, value) in environment { merged[key] = value }
        let process = try ChildProcess(
            "imagegen-server", arguments: workspace.serverArguments(config: false) + extra, environment: merged)
        let status = try await process.waitForExit(timeout: .seconds(20))
        #expect(status != 0)
        #expect(process.stderr.contains(refusal), "stderr: \(process.stderr)")
        #expect(!process.stderr.contains("hunter22") && !process.stdout.contains("hunter22"))
    }
}
