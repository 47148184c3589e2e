import FakeGemini
import Foundation
import ImageGenCoordination
import ImageGenEngine
import ImageGenGemini
import ImageGenTestSupport
import Logging
import Testing

/// Two engines, as two servers would run them (each its own provider, coordination connection and
/// project directory), on the same keys and projects, against one fake Gemini: with the database
/// stopped mid-run, none starts a request until it is back. (That several servers keep to one
/// quota and reach it is measured on server processes: `ProofTests.threeServersKeepToOneQuotaAndReachIt`.)
/// It runs alone in the test process: a start granted before the stop and woken late by the other
/// suites would go out after it.
@Suite(.serialized, .timeLimit(.minutes(2)), .hangWatchdog, .runsAlone)
struct SharedQuotaOverFakeGeminiTests {
    static let projects = ["shared-a", "shared-b"]
    static let model = "gemini-3.1-flash-image"

    static func secret(_ project: Int) -> String { "AIzaSySHARED-p\(project)-zzSQ0\(project)" }

    static var keys: [String: String] {
        Dictionary(uniqueKeysWithValues: projects.enumerated().map { (secret($0.offset), $0.element) })
    }

    static func board(_ count: Int, tag: String) throws -> ValidatedStoryboard {
        try ValidatedStoryboard(shots: [
            ValidatedStoryboard.Shot(
                id: "1",
                beats: (1...count).map { ValidatedStoryboard.Beat(id: "1.\($0)", prompt: "\(tag) pier \($0)", transition: .cut) })
        ])
    }

    static let fastRetry = RetryPolicy(
        maxAttempts: 5, maxUnknownOutcomeAttempts: 3, maxRateLimitedAttempts: 50, baseDelay: .milliseconds(5),
        maxDelay: .milliseconds(40))

    /// One style over every project's key, paced at `rpm` per project.
    static func style(_ name: String, baseURL: String, rpm: Double) -> StyleConfiguration {
        var style = StyleConfiguration(
            name: name, promptTemplate: "\(name): {prompt}", continuity: false, attachStyleReference: true,
            keys: projects.enumerated().map { offset, project in
                APIKey(secret: secret(offset), project: project, style: name, index: offset + 1)
            },
            requestsPerMinute: rpm, maxInFlightPerProject: 4, baseURL: baseURL, requestTimeout: .seconds(10),
            retry: fastRetry)
        style.model = model
        return style
    }

    /// What one "server" is made of here: its engine, its provider and its coordination database.
    struct Server: Sendable {
        let engine: ImageEngine
        let provider: GeminiProvider
        let database: CoordinationDatabase
        let project: URL
    }

    static func servers(
        _ count: Int, cluster: PostgresCluster, baseURL: String, rpm: Double, logger: Logger
    ) throws -> [Server] {
        let settings = try CoordinationSettings(url: cluster.url)
        return try (0..<count).map { index in
            let provider = try GeminiProvider(
                configuration: GeminiConfiguration(baseURL: baseURL, connectTimeout: .seconds(2)), logger: logger)
            let database = CoordinationDatabase(settings: settings, logger: logger)
            let project = FileManager.default.temporaryDirectory
                .appendingPathComponent("imagegen-shared-quota-\(UUID().uuidString)", isDirectory: true)
            try FileManager.default.createDirectory(at: project, withIntermediateDirectories: true)
            let engine = ImageEngine(
                configuration: EngineConfiguration(styles: [style("s\(index)", baseURL: baseURL, rpm: rpm)], durability: .none),
                logger: logger, providerFactory: { _ in provider },
                coordinator: PostgresQuotaCoordinator(database: database))
            return Server(engine: engine, provider: provider, database: database, project: project)
        }
    }

    /// Runs `body` with a fake Gemini, a PostgreSQL cluster and `count` connected servers; shuts
    /// them all down and removes their directories after.
    static func with<T: Sendable>(
        servers count: Int, fake: FakeGeminiConfiguration, rpm: Double,
        _ body: @escaping @Sendable (FakeGeminiServer, PostgresCluster, [Server]) async throws -> T
    ) async throws -> T {
        let logger = CoordinationRig.logger
        let fake = FakeGeminiServer(configuration: fake, logger: logger)
        let port = try await fake.start()
        do {
            let result = try await PostgresCluster.with { cluster in
                let servers = try Self.servers(count, cluster: cluster, baseURL: "http://127.0.0.1:\(port)", rpm: rpm, logger: logger)
                defer { for server in servers { try? FileManager.default.removeItem(at: server.project) } }
                do {
                    let result = try await CoordinationDatabase.whileRunning(servers.map(\.database)) {
                        for server in servers { try await CoordinationRig.waitUntilAvailable(server.database) }
                        return try await body(fake, cluster, servers)
                    }
                    for server in servers { await server.provider.shutdown() }
                    return result
                } catch {
                    for server in servers { await server.provider.shutdown() }
                    throw error
                }
            }
            try await fake.shutdown()
            return result
        } catch {
            try? await fake.shutdown()
            throw error
        }
    }

    /// The database stops while two servers run: from then on no request starts until it is
    /// back, not even one reserved before it stopped (but those sent as it stopped: within
    /// 0.5 s, half the 1 s a start may be reserved ahead); both are told, and their jobs then complete.
    @Test func noRequestStartsWhileTheDatabaseIsDown() async throws {
        let fake = FakeGeminiConfiguration(keys: Self.keys, latency: .milliseconds(50))
        let beatsPerServer = 30
        try await Self.with(servers: 2, fake: fake, rpm: 600) { fake, cluster, servers in
            try await withThrowingTaskGroup(of: (JobSummary, [EngineEvent]).self) { group in
                for (index, server) in servers.enumerated() {
                    group.addTask {
                        let job = try server.engine.makeJob(
                            storyboard: try Self.board(beatsPerServer, tag: "server \(index)"), project: server.project)
                        return await runJob(job)
                    }
                }
                try await Self.waitFor(fake, requests: 12)
                try await cluster.stop()
                let stopped = Date()
                let countAtStop = fake.requestLog().count
                try await Task.sleep(for: .seconds(2.5))
                let late = fake.requestLog().filter { $0.time > stopped.addingTimeInterval(0.5) }
                #expect(late.isEmpty, "\(late.count) requests started with the database down: \(late.map(\.prompt))")
                try await cluster.resume()
                let results = try await group.reduce(into: []) { $0.append($1) }
                #expect(countAtStop < 2 * beatsPerServer, "the jobs were over before the database stopped")
                for (summary, events) in results {
                    #expect(summary.styles.first?.done == beatsPerServer, "\(summary)")
                    let messages = events.compactMap { event -> String? in
                        if case .message(nil, let text) = event { return text } else { return nil }
                    }
                    #expect(messages.contains { $0.contains("no request starts until it answers again") }, "\(messages)")
                    #expect(messages.contains { $0.hasPrefix("coordination is back after") }, "\(messages)")
                }
            }
            #expect(fake.requestLog().filter { $0.status == 200 }.count == 2 * beatsPerServer)
        }
    }

    /// One server's 429 holds every server's starts of that quota for the delay it states: three
    /// servers on two projects meet a 429 stating a 2 s delay on one of them. From the moment
    /// Gemini answered it, no request of that project reaches the fake until the delay is nearly
    /// over, but for those sent as it answered (within 0.5 s: its latency and the notice's
    /// round-trip, on a loaded machine); the other project goes on; every job completes. (A start reserved before the
    /// 429 and due after it is withdrawn: `HeardRefusalsTests`; here the servers' own pacing
    /// seldom leaves one outstanding at the moment of the 429.)
    @Test func aCoolDownOneServerMetHoldsEveryServer() async throws {
        var fake = FakeGeminiConfiguration(keys: Self.keys, latency: .milliseconds(50))
        fake.faultRetryDelay = .seconds(2)
        let beatsPerServer = 6
        try await Self.with(servers: 3, fake: fake, rpm: 120) { fake, _, servers in
            try await withThrowingTaskGroup(of: JobSummary.self) { group in
                for (index, server) in servers.enumerated() {
                    group.addTask {
                        let job = try server.engine.makeJob(
                            storyboard: try Self.board(beatsPerServer, tag: "server \(index)"), project: server.project)
                        return await runJob(job).0
                    }
                }
                try await Self.waitFor(fake, requests: 6)
                fake.enqueueFaults([FakeGeminiScriptedFault(.rateLimit, key: Self.secret(0))])
                for try await summary in group { #expect(summary.styles.first?.done == beatsPerServer, "\(summary)") }
            }
            let log = fake.requestLog()
            guard let refused = log.first(where: { $0.status == 429 }) else {
                Issue.record("the fake answered no 429")
                return
            }
            let project = refused.project ?? ""
            let held = log.filter { entry in
                entry.project == project && entry.time > refused.time.addingTimeInterval(0.5) && entry.time < refused.time.addingTimeInterval(1.8)
            }
            #expect(held.isEmpty, "\(held.count) requests of \(project) started while its cool-down held: \(held.map { "\($0.prompt) at +\($0.time.timeIntervalSince(refused.time))" })")
            let others = log.filter { $0.project != project && $0.time > refused.time && $0.time < refused.time.addingTimeInterval(1.8) }
            #expect(!others.isEmpty, "the other project's requests stopped too")
            print("cool-down heard: \(project)'s requests at \(log.filter { $0.project == project }.map { String(format: "%+.2f", $0.time.timeIntervalSince(refused.time)) }) s of its 429")
        }
    }

    /// A limit one server learned from Gemini's 429s paces the other from its first request: the
    /// first server, configured far above the fake's 120 per minute per project, learns each
    /// project's limit; the second, started after, adopts every one of them (told as "another
    /// server learned it") before Gemini could have stated it to it, and completes.
    @Test func aLimitOneServerLearnedPacesTheOther() async throws {
        let fake = FakeGeminiConfiguration(
            keys: Self.keys, limiter: .tokenBucket(burst: 1, perMinute: 120), latency: .milliseconds(20))
        try await Self.with(servers: 2, fake: fake, rpm: 600) { fake, _, servers in
            let (learner, follower) = (servers[0], servers[1])
            let (_, taught) = await runJob(try learner.engine.makeJob(storyboard: try Self.board(16, tag: "learner"), project: learner.project))
            let learned = Self.projects.filter { project in Self.texts(taught).contains { $0.contains("project \(project),") && $0.contains("Gemini states a limit of 120") } }
            #expect(!learned.isEmpty, "the first server learned no limit: \(Self.texts(taught))")
            let beats = 6
            let (summary, events) = await runJob(try follower.engine.makeJob(storyboard: try Self.board(beats, tag: "follower"), project: follower.project))
            #expect(summary.styles.first?.done == beats, "\(summary)")
            let told = Self.texts(events).filter { $0.contains("limit of 120") }
            for project in learned {
                let first = told.first { $0.contains("project \(project),") }
                #expect(first?.contains("another server learned it") == true, "project \(project): \(told)")
            }
        }
    }

    /// The texts of a job's message events.
    static func texts(_ events: [EngineEvent]) -> [String] {
        events.compactMap { event -> String? in
            if case .message(_, let text) = event { return text } else { return nil }
        }
    }

    static func waitFor(_ fake: FakeGeminiServer, requests: Int, timeout: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + timeout
        while fake.requestLog().count < requests {
            guard ContinuousClock.now < deadline else {
                throw ChildProcess.ProcessFailure(message: "the fake saw \(fake.requestLog().count) requests, not \(requests)")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}
