import FakeGemini
import Foundation
import ImageGenClient
import ImageGenTestSupport
import ImageGenWire
import Logging
import Testing

/// The Batch lane through the real `imagegen-server` process and the fake Gemini's Batch API.
extension ProofTests {
    static let batchSecrets = ["AIzaTestKeyConsistent1": "proj-1", "AIzaTestKeyConsistent2": "proj-2"]
    static let batchKeys = ["IMAGEGEN_KEYS_CONSISTENT": "proj-1:AIzaTestKeyConsistent1,proj-2:AIzaTestKeyConsistent2"]

    /// 1.1 hard cut → 1.2 → 1.3 (a chain of 3); 2.1 → 2.2 (a chain of 2); 3.1 hard cut, 3.2 cut.
    static let chains = ProofStoryboard(shots: [
        ("1", [("1.1", "a lighthouse at dusk", "hard_cut"), ("1.2", "its beam sweeps the sea", "continue"),
               ("1.3", "a boat in the beam", "continue")]),
        ("2", [("2.1", "a keeper climbs the stairs", "cut"), ("2.2", "the keeper reaches the lamp", "continue")]),
        ("3", [("3.1", "dawn over the harbour", "hard_cut"), ("3.2", "gulls above the quay", "cut")]),
    ])

    /// Runs `body` with a started fake (its batch settings from `adjust`) and a launcher for a
    /// server whose `consistent` style has two keys in two projects and `config` as its file.
    static func withBatchRig(
        _ name: String, config: String, storyboard: ProofStoryboard = chains, keys: [String: String] = batchKeys,
        fake adjust: (inout FakeGeminiConfiguration) -> Void = { _ in },
        _ body: (FakeGeminiServer, ServerLauncher, URL) async throws -> Void
    ) async throws {
        let workspace = try ProofWorkspace(name)
        defer { workspace.remove() }
        let project = try workspace.makeProject("film", storyboard: storyboard)
        try workspace.writeConfig(config)
        var configuration = FakeGeminiConfiguration(keys: batchSecrets)
        adjust(&configuration)
        let fake = FakeGeminiServer(configuration: configuration, logger: Logger(label: "fake", factory: { _ in SwiftLogNoOpLogHandler() }))
        let port = try await fake.start()
        var environment = keys
        environment["IMAGEGEN_GEMINI_BASE_URL"] = "http://127.0.0.1:\(port)"
        let launcher = ServerLauncher(arguments: workspace.serverArguments(config: true), environment: environment)
        do {
            try await body(fake, launcher, project)
        } catch {
            Issue.record("\(name): \(error)")
        }
        try await fake.shutdown()
    }

    /// Starts the `consistent` style of project "film" detached; returns the job id.
    static func startConsistent(_ server: ServerLauncher.Running, options: GenerationOptions = GenerationOptions()) async throws -> String {
        let client = try await ServerLauncher.client(server)
        defer { client.close() }
        let accepted = try await EventStreams.collect(
            try await client.startGeneration(StartGenerationRequest(projectDir: "film", styles: ["consistent"], options: options, detach: true)))
        return try #require(accepted.first?.jobID)
    }

    /// Starts a server, runs the `consistent` style of "film" to its end, stops the server; the status from the files.
    static func runConsistent(_ launcher: ServerLauncher) async throws -> JobStatus {
        let server = try await launcher.launch()
        _ = try await startConsistent(server)
        let client = try await ServerLauncher.client(server)
        let status = try await EventStreams.waitForProject(client, projectDir: "film", timeout: .seconds(60))
        client.close()
        await ServerLauncher.stop(server.process)
        return status
    }

    /// The wave a display name names ("imagegen … consistent w2 #3" → 2).
    static func wave(of displayName: String) -> Int? {
        displayName.split(separator: " ").first { $0.hasPrefix("w") }.flatMap { Int($0.dropFirst()) }
    }

    /// Every record of the style, journal folded in, by "shot/beat".
    static func records(_ project: URL, style: String = "consistent") throws -> [String: ProgressFile.Record] {
        var records: [String: ProgressFile.Record] = [:]
        for record in try ProgressFile.read(project: project, style: style).beats + (try ProgressFile.journal(project: project, style: style)) {
            records["\(record.shot)/\(record.beat)"] = record
        }
        return records
    }

    /// Whether the status (read from the files) shows every beat of `consistent` done.
    static func consistentDone(_ status: JobStatus) -> Bool {
        status.styles.contains { $0.style == "consistent" && $0.total > 0 && $0.completed == $0.total }
    }

    /// The batches the style's ledger still lists.
    static func openBatches(_ project: URL, style: String = "consistent") throws -> Int {
        let url = project.appendingPathComponent("image_batches_\(style).json")
        guard let data = try? Data(contentsOf: url) else { return 0 }
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        return (object?["entries"] as? [Any])?.count ?? 0
    }

    static let fastBatchConfig = #"{"delivery":"batch","batchPollInitialSeconds":0.05,"batchPollMaxSeconds":0.2}"#

    @Test(.timeLimit(.minutes(2)))
    func batchDeliverySendsOneBatchPerWaveAndProjectAndNothingOnline() async throws {
        try await Self.withBatchRig("batch-waves", config: Self.fastBatchConfig, fake: {
            $0.batchPendingTime = .milliseconds(100)
            $0.batchRunningTime = .milliseconds(100)
        }) { fake, launcher, project in
            let status = try await Self.runConsistent(launcher)
            #expect(Self.consistentDone(status), "\(status.styles) \(status.message)")

            let log = fake.requestLog()
            #expect(log.allSatisfy { $0.lane == "batch" }, "online requests: \(log.filter { $0.lane == nil }.map(\.prompt))")
            #expect(log.count == 7 && Set(log.map(\.prompt)).count == 7, "each beat billed once")
            let batches = fake.batches()
            var waveOf: [String: Int] = [:]
            for batch in batches {
                let wave = try #require(Self.wave(of: batch.displayName))
                for key in batch.keys { waveOf[key] = wave }
                #expect(batch.state == "BATCH_STATE_SUCCEEDED")
            }
            #expect(waveOf == [
                "consistent/1/1.1": 1, "consistent/2/2.1": 1, "consistent/3/3.1": 1, "consistent/3/3.2": 1,
                "consistent/1/1.2": 2, "consistent/2/2.2": 2, "consistent/1/1.3": 3,
            ])
            // One batch per (wave, project): wave 1 and 2 over both projects, wave 3 in one.
            let perWave = Dictionary(grouping: batches) { Self.wave(of: $0.displayName) ?? 0 }
            #expect(perWave.mapValues(\.count) == [1: 2, 2: 2, 3: 1])
            for (wave, group) in perWave { #expect(Set(group.map(\.project)).count == group.count, "wave \(wave)") }
            // Waves were created in order.
            let waves = batches.compactMap { Self.wave(of: $0.displayName) }
            #expect(waves == waves.sorted())
            let records = try Self.records(project)
            #expect(records.count == 7)
            for (key, record) in records {
                #expect(record.state == "done" && record.lane == "batch" && record.batch != nil, "\(key)")
                if let problem = ProgressFile.problem(with: record, project: project) { Issue.record("\(problem)") }
            }
            #expect(try Self.openBatches(project) == 0, "every batch collected and forgotten")
        }
    }

    /// Where a batch is when the server is killed.
    enum KillPoint: String, CaseIterable, Sendable {
        case pending
        case running
    }

    @Test(.timeLimit(.minutes(2)), arguments: KillPoint.allCases)
    func killedWhileABatchIsOutTheRestartedServerPollsItAndCreatesNoneAgain(at point: KillPoint) async throws {
        let board = ProofStoryboard(shots: [
            ("1", [("1.1", "a red door", "hard_cut"), ("1.2", "the door opens", "continue")]),
            ("2", [("2.1", "a blue window", "cut"), ("2.2", "rain on the window", "continue")]),
        ])
        // One key: each wave is one batch of two requests, so a running batch can have processed one.
        let oneKey = ["IMAGEGEN_KEYS_CONSISTENT": "proj-1:AIzaTestKeyConsistent1"]
        try await Self.withBatchRig(
            "batch-kill-\(point.rawValue)", config: Self.fastBatchConfig, storyboard: board, keys: oneKey,
            fake: {
                $0.batchPendingTime = point == .pending ? .milliseconds(1_500) : .milliseconds(100)
                $0.batchRunningTime = point == .pending ? .milliseconds(100) : .seconds(2)
            }
        ) { fake, launcher, project in
            var server = try await launcher.launch()
            let jobID = try await Self.startConsistent(server)
            // Kill once the first wave's batches are out and, for `running`, one is running.
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline {
                let batches = fake.batches()
                let ready = point == .pending
                    ? batches.count == 1 && batches[0].state == "BATCH_STATE_PENDING"
                    : batches.count == 1 && batches[0].state == "BATCH_STATE_RUNNING" && batches[0].processedKeys.count == 1
                if ready { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            let before = fake.batches()
            #expect(before.count == 1, "the first wave's batch was out at the kill")
            if point == .running { #expect(before.first?.processedKeys.count == 1, "one of its two requests processed (billed)") }
            _ = try await server.process.stop(signal: SIGKILL)
            server = try await launcher.launch()
            let client = try await ServerLauncher.client(server)
            let status = try await EventStreams.waitForProject(client, projectDir: "film", timeout: .seconds(60))
            client.close()
            await ServerLauncher.stop(server.process)
            _ = jobID
            #expect(Self.consistentDone(status), "\(status.styles) \(status.message)")

            let after = fake.batches()
            // The batches out at the kill were polled, not created again: each beat is in exactly one batch.
            #expect(Array(after.prefix(before.count)).map(\.name) == before.map(\.name))
            let keys = after.flatMap(\.keys)
            #expect(keys.count == 4 && Set(keys).count == 4, "batches: \(after.map { ($0.displayName, $0.keys) })")
            #expect(after.count == 2, "two waves, one batch each")
            let log = fake.requestLog()
            #expect(log.count == 4 && Set(log.map(\.prompt)).count == 4 && log.allSatisfy { $0.lane == "batch" },
                    "each image billed once: \(log.map { ($0.prompt, $0.lane ?? "online") })")
            let records = try Self.records(project)
            #expect(records.values.allSatisfy { $0.state == "done" && $0.lane == "batch" })
            #expect(try Self.openBatches(project) == 0)
            for record in records.values { if let problem = ProgressFile.problem(with: record, project: project) { Issue.record("\(problem)") } }
        }
    }

    /// One batch scenario through the server: its fake and config, and what must come of its beats.
    struct BatchScenario: Sendable, CustomTestStringConvertible {
        var name: String
        var config: String
        var faults: [FakeGeminiBatchFault] = []
        var pending: Duration = .milliseconds(50)
        var prompts: [String] = ["a quiet street", "a busy market"]
        /// Batches the fake ends up holding.
        var batches: Int
        /// Prompts answered online, and in batches (billed there).
        var online: Int
        var inBatch: Int
        /// Beats failed at the end.
        var failed: Int = 0
        var testDescription: String { name }
    }

    static let scenarios: [BatchScenario] = [
        BatchScenario(name: "lost create answer: found by listing, not resent", config: fastBatchConfig,
                      faults: [.loseCreateAnswer], batches: 1, online: 0, inBatch: 2),
        BatchScenario(name: "expired: every unprocessed beat online", config: fastBatchConfig,
                      faults: [.expire], batches: 1, online: 2, inBatch: 0),
        BatchScenario(name: "failed: every unprocessed beat online", config: fastBatchConfig,
                      faults: [.fail], batches: 1, online: 2, inBatch: 0),
        BatchScenario(name: "deadline: stuck, cancelled, online",
                      config: #"{"delivery":"batch","batchPollInitialSeconds":0.05,"batchPollMaxSeconds":0.2,"batchDeadlineSeconds":4}"#,
                      faults: [.stuckPending], batches: 1, online: 2, inBatch: 0),
        BatchScenario(name: "processed one, then cancelled: only the other online", config: fastBatchConfig,
                      faults: [.partialThenCancelled(count: 1)], batches: 1, online: 1, inBatch: 1),
        BatchScenario(name: "per-request 500: retried online", config: fastBatchConfig,
                      prompts: ["a quiet street [[fault:server_error:1]]", "a busy market"], batches: 1, online: 1, inBatch: 2),
        BatchScenario(name: "per-request block: fails with its reason", config: fastBatchConfig,
                      prompts: ["a quiet street [[fault:safety]]", "a busy market"], batches: 1, online: 0, inBatch: 2, failed: 1),
        BatchScenario(name: "auto with a tight deadline: online",
                      config: #"{"delivery":"auto","batchDeadlineSeconds":30,"batchMinimumWaveSeconds":60}"#,
                      batches: 0, online: 2, inBatch: 0),
    ]

    @Test(.timeLimit(.minutes(2)))
    func theJobsOptionsPickTheLaneAndItsDeadlineThroughTheCLIAndTheSwiftClient() async throws {
        // The configuration says online; the job's options say batch with a 4 s deadline, and the
        // fake's batch never leaves PENDING: cancelled at the deadline, every beat then online.
        try await Self.withBatchRig("batch-options", config: #"{"batchPollInitialSeconds":0.05,"batchPollMaxSeconds":0.2}"#, fake: {
            // Wave 1 is two batches (two projects); the deadline then sends everything online.
            $0.batchFaults = [.stuckPending, .stuckPending]
        }) { fake, launcher, project in
            let server = try await launcher.launch()
            _ = try await Self.startConsistent(server, options: GenerationOptions(delivery: .batch, batchDeadlineSeconds: 4))
            let client = try await ServerLauncher.client(server)
            let status = try await EventStreams.waitForProject(client, projectDir: "film", timeout: .seconds(60))
            client.close()
            #expect(Self.consistentDone(status), "\(status.styles) \(status.message)")
            #expect(fake.batches().allSatisfy { $0.state == "BATCH_STATE_CANCELLED" && Self.wave(of: $0.displayName) == 1 })
            #expect(fake.requestLog().filter { $0.lane == nil }.count == 7, "all seven online after the deadline")

            // The CLI: `imagegen generate --delivery batch` over the same server, forced, one wave later.
            let storyboard = project.appendingPathComponent("storyboard.json").path
            let cli = try ChildProcess(
                "imagegen",
                arguments: ["generate", storyboard, "--project", "film", "--styles", "consistent", "--force", "--delivery", "batch",
                            "--server", "127.0.0.1:\(server.port)"])
            let code = try await cli.waitForExit(timeout: .seconds(60))
            await ServerLauncher.stop(server.process)
            #expect(code == 0, "\(cli.stderr.suffix(2_000))")
            let batchLog = fake.requestLog().filter { $0.lane == "batch" }
            #expect(batchLog.count == 7 && Set(batchLog.map(\.prompt)).count == 7, "the CLI's job went to batch: \(batchLog.count)")
            #expect(try Self.records(project).values.allSatisfy { $0.state == "done" && $0.lane == "batch" })
        }
    }

    @Test(.timeLimit(.minutes(2)), arguments: scenarios)
    func batchEndsAndFallbacks(_ scenario: BatchScenario) async throws {
        let board = ProofStoryboard(shots: [("1", scenario.prompts.enumerated().map { ("1.\($0 + 1)", $1, "cut") })])
        let oneKey = ["IMAGEGEN_KEYS_CONSISTENT": "proj-1:AIzaTestKeyConsistent1"]
        try await Self.withBatchRig("batch-scenario", config: scenario.config, storyboard: board, keys: oneKey, fake: {
            $0.batchPendingTime = scenario.pending
            $0.batchRunningTime = .milliseconds(50)
            $0.batchFaults = scenario.faults
        }) { fake, launcher, project in
            let status = try await Self.runConsistent(launcher)
            let log = fake.requestLog()
            #expect(fake.batches().count == scenario.batches, "batches: \(fake.batches().map(\.displayName))")
            #expect(log.filter { $0.lane == nil && $0.kind == "image" }.count + log.filter { $0.lane == nil && $0.kind != "image" }.count
                    == scenario.online, "online: \(log.filter { $0.lane == nil }.map(\.prompt))")
            #expect(log.filter { $0.lane == "batch" }.count == scenario.inBatch, "in batch: \(log.filter { $0.lane == "batch" }.map(\.prompt))")
            let records = try Self.records(project)
            #expect(records.values.filter { $0.state == "failed" }.count == scenario.failed, "\(status.message)")
            #expect(records.values.filter { $0.state == "done" }.count == 2 - scenario.failed)
            if scenario.failed > 0 {
                #expect(records.values.contains { $0.lastError?.contains("blocked") == true })
            }
        }
    }
}
