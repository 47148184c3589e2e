import FakeGemini
import Foundation
import ImageGenClient
import ImageGenTestSupport
import ImageGenWire
import Logging
import Testing

extension ProofTests {
    static let sharedProjects = ["shared-a", "shared-b"]

    static func sharedKey(_ project: Int) -> String { "AIzaSharedQuotaKey000\(project)" }

    /// Three `imagegen-server` processes with `--coordination` on one PostgreSQL cluster (started
    /// by the test) render a project each on the same two keys (two Google Cloud projects), each
    /// server paced at 98 % of the fake's quota on its own, so that alone each would fill it. The
    /// fake allows 200 requests per 10 s sliding window per project (20 per second): together the
    /// three keep to it (at most 0.5 % of requests refused), reach at least 95 % of it, every
    /// server gets a share, and each announces the database it shares its quotas through, without
    /// a password. The window is 10 s, not Gemini's minute, to keep the test short, and not
    /// shorter: the pace's 2 % margin is then 4 requests, 200 ms of a request arriving late on a
    /// loaded machine, while three servers each at its own pace (59/s) would fill it in 3.4 s.
    /// The servers are processes, as in production: engines in the test process would share its
    /// cooperative pool with every suite running beside this one, and be woken late by them.
    @Test(.timeLimit(.minutes(2)))
    func threeServersKeepToOneQuotaAndReachIt() async throws {
        let quiet = Logger(label: "fake-gemini", factory: { _ in SwiftLogNoOpLogHandler() })
        let keys = Dictionary(uniqueKeysWithValues: Self.sharedProjects.enumerated().map { (Self.sharedKey($0.offset), $0.element) })
        let fake = FakeGeminiServer(
            configuration: FakeGeminiConfiguration(
                keys: keys, limiter: .slidingWindow(requests: 200, window: .seconds(10)), latency: .milliseconds(100)),
            logger: quiet)
        let fakePort = try await fake.start()
        defer { Task { try? await fake.shutdown() } }
        let beats = 160
        try await PostgresCluster.with { cluster in
            let workspaces = try (0..<3).map { index in
                let workspace = try ProofWorkspace("coordination-\(index)")
                try workspace.makeProject(
                    "film", storyboard: ProofStoryboard(shots: [(id: "1", beats: (1...beats).map { ("\($0)", "server \(index) pier \($0)", "cut") })]))
                try workspace.writeConfig(
                    #"{"durability":"none","requestsPerMinute":1176,"maxInFlightPerProject":4,"retry":{"baseDelaySeconds":0.05}}"#)
                return workspace
            }
            defer { for workspace in workspaces { workspace.remove() } }
            let url = cluster.url.replacingOccurrences(of: "imagegen@", with: "imagegen:not-a-real-password@")
            var servers: [ServerLauncher.Running] = []
            do {
                try await Self.launchSharing(&servers, workspaces: workspaces, url: url, cluster: cluster, fakePort: fakePort)
                try await Self.renderSharing(servers, beats: beats)
                Self.expectOneQuotaReached(fake.requestLog(), servers: servers.count, beats: beats, bound: 20)
                for server in servers { #expect(await ServerLauncher.stop(server.process) == 0) }
            } catch {
                for server in servers { _ = try? await server.process.stop(signal: SIGKILL, timeout: .seconds(5)) }
                throw error
            }
        }
    }

    /// Starts a server per workspace on the shared keys and database; each announces the database
    /// without its password.
    private static func launchSharing(
        _ servers: inout [ServerLauncher.Running], workspaces: [ProofWorkspace], url: String, cluster: PostgresCluster,
        fakePort: Int
    ) async throws {
        let pool = sharedProjects.enumerated().map { "\($0.element):\(sharedKey($0.offset))" }.joined(separator: ",")
        for (index, workspace) in workspaces.enumerated() {
            servers.append(
                try await ServerLauncher(
                    arguments: workspace.serverArguments(config: true) + ["--server-id", "render-\(index)"],
                    environment: [
                        "IMAGEGEN_GEMINI_BASE_URL": "http://127.0.0.1:\(fakePort)", "IMAGEGEN_KEYS_ILLUSTRATION": pool,
                        "IMAGEGEN_DATABASE_URL": url,
                    ]
                ).launch())
        }
        for (index, server) in servers.enumerated() {
            let announced = "coordination postgres://imagegen@127.0.0.1:\(cluster.port)/postgres (server render-\(index))"
            #expect(server.process.stdout.contains(announced), "\(server.process.stdout)")
            #expect(!server.process.stdout.contains("not-a-real-password") && !server.process.stderr.contains("not-a-real-password"))
        }
    }

    /// Renders every server's project at once; all complete.
    private static func renderSharing(_ servers: [ServerLauncher.Running], beats: Int) async throws {
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
    }

    /// What the fake saw of the servers' requests: every beat once, at most 0.5 % refused, and on
    /// each project a rate within [0.95, 1] of `bound` while all servers sent, each its share.
    private static func expectOneQuotaReached(_ log: [FakeGeminiRequestLogEntry], servers: Int, beats: Int, bound: Double) {
        let refused = log.filter { $0.status == 429 }.count
        #expect(log.filter { $0.status == 200 }.count == servers * beats)
        #expect(Double(refused) <= 0.005 * Double(log.count), "\(refused) of \(log.count) refused")
        for project in sharedProjects {
            let mine = log.filter { $0.project == project }
            let rate = Self.rate(mine, senders: servers)
            print("shared quota: \(project) \(rate)/s while all \(servers) servers send, of bound \(bound)")
            #expect(rate >= 0.95 * bound && rate <= bound, "\(project): \(rate)/s over \(mine.count) requests")
            for index in 0..<servers {
                #expect(mine.contains { $0.prompt.contains("server \(index) pier") }, "server \(index) sent nothing on \(project)")
            }
        }
    }

    /// Admitted requests per second of one quota while all `senders` send on it: from its second
    /// admitted arrival to the last arrival of the first sender to finish (prompts hold "server N
    /// pier"). The tail, when fewer servers are left to ask, measures their demand, not the quota.
    static func rate(_ log: [FakeGeminiRequestLogEntry], senders: Int) -> Double {
        let admitted = log.filter { $0.status == 200 }.sorted { $0.time < $1.time }.dropFirst()
        let ends = (0..<senders).compactMap { index in admitted.last { $0.prompt.contains("server \(index) pier") }?.time }
        guard let first = admitted.first?.time, let end = ends.min(), ends.count == senders else { return 0 }
        let within = admitted.filter { $0.time <= end }
        guard within.count > 1, end > first else { return 0 }
        return Double(within.count - 1) / end.timeIntervalSince(first)
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
