import Foundation
import ImageGenEngine
import ImageGenTestSupport
import Synchronization
import Testing

/// The Batch API lane in the engine, against an in-memory Batch API: waves follow the chains,
/// the ledger makes batches survive a stop, a lost answer is found by name, and beats a batch
/// did not process (and only those) go online.
@Suite("Batch lane", .timeLimit(.minutes(1)), .hangWatchdog)
struct BatchLaneTests {
    /// A wall clock a test moves by hand (it starts at the system's time).
    final class TestWallClock: Sendable {
        private let offset = Mutex(0.0)
        var now: Date { Date().addingTimeInterval(offset.withLock { $0 }) }
        func advance(seconds: Double) { offset.withLock { $0 += seconds } }
    }

    static let fastBatch = BatchSettings(
        pollInitial: .milliseconds(2), pollMax: .milliseconds(10), deadline: .seconds(60), minimumWaveTime: .seconds(1))

    static func style(
        _ delivery: Delivery = .batch, projects: [String] = ["film-a"], batch: BatchSettings = fastBatch
    ) -> StyleConfiguration {
        var style = fastStyle(
            "clear", keys: keys("clear", projects.enumerated().map { ($1, "AIzaKey00000000\($0 + 1)") }), continuity: true)
        style.delivery = delivery
        style.batch = batch
        return style
    }

    static func engine(_ provider: ScriptedBatchProvider, style: StyleConfiguration, clock: TestWallClock = TestWallClock()) -> ImageEngine {
        ImageEngine(
            configuration: fastConfiguration(styles: [style], durability: .full), logger: testLogger,
            providerFactory: { _ in provider }, wallClock: { clock.now })
    }

    /// Two shots: 1.1 hard cut → 1.2 → 1.3 (a chain of 3); 2.1 cut → 2.2, and 2.3 a cut.
    static func board() throws -> ValidatedStoryboard {
        try makeStoryboard(shots: 2, beats: 3) { shot, beat in
            switch (shot, beat) {
            case (1, 1): .hardCut
            case (2, 1), (2, 3): .cut
            default: .continue
            }
        }
    }

    static func ledger(_ project: URL) throws -> [String: Any]? {
        let url = project.appendingPathComponent("image_batches_clear.json")
        guard let data = try? Data(contentsOf: url) else { return nil }
        return try JSONSerialization.jsonObject(with: data) as? [String: Any]
    }

    static func openEntries(_ project: URL) throws -> Int {
        ((try ledger(project))?["entries"] as? [Any])?.count ?? 0
    }

    @Test("waves follow the chains: one batch per wave and project, nothing online", arguments: [1, 2])
    func wavesFollowChains(projects: Int) async throws {
        let dir = TempDirectory("batch-waves")
        let provider = ScriptedBatchProvider()
        let style = Self.style(projects: (1...projects).map { "film-\($0)" })
        let (summary, events) = await runJob(try Self.engine(provider, style: style).makeJob(storyboard: Self.board(), project: dir.url))
        #expect(summary.state == .completed)
        #expect(provider.onlinePrompts.isEmpty)
        let batches = provider.batches
        // Wave 1: 1.1, 2.1, 2.3; wave 2: 1.2, 2.2; wave 3: 1.3; each wave split over the projects.
        let waves = batches.map { batch in Int(batch.displayName.split(separator: " ").first { $0.hasPrefix("w") }!.dropFirst())! }
        #expect(waves == waves.sorted())
        var waveOf: [String: Int] = [:]
        for (batch, wave) in zip(batches, waves) { for key in batch.keys { waveOf[key] = wave } }
        #expect(waveOf == [
            "clear/1/1.1": 1, "clear/2/2.1": 1, "clear/2/2.3": 1, "clear/1/1.2": 2, "clear/2/2.2": 2, "clear/1/1.3": 3,
        ])
        for wave in 1...3 {
            let inWave = zip(batches, waves).filter { $0.1 == wave }.map(\.0)
            let beats = inWave.reduce(0) { $0 + $1.keys.count }
            #expect(inWave.count == min(projects, beats), "wave \(wave): one batch per project")
            #expect(Set(inWave.map(\.project)).count == inWave.count)
        }
        // Hard cut: the style reference is absent here; a continue beat carries its predecessor.
        for batch in batches {
            for (key, references) in zip(batch.keys, batch.referenceCounts) {
                #expect(references == (key.hasSuffix("1.2") || key.hasSuffix("1.3") || key.hasSuffix("2.2") ? 1 : 0), "\(key)")
            }
        }
        let records = try progressRecords(dir.url, style: "clear")
        #expect(records.count == 6)
        for record in records.values {
            #expect(record.state == .done)
            #expect(record.lane == .batch)
            #expect(record.batch?.hasPrefix("imagegen ") == true)
            #expect(record.billedRequests == 1)
        }
        #expect(try Self.openEntries(dir.url) == 0)
        let spend = summary.styles[0].spend
        #expect(spend.batchRequests == 6)
        #expect(spend.batchImages == 6)
        #expect(abs(spend.estimatedCostUSD - 6 * 0.0335) < 1e-9)
        #expect(beatUpdates(events, state: .inBatch).count >= 6)
    }

    /// How a batch ends, and what its beats then do: (end, processed before a cancel, beats online, beats done from the batch).
    static let ends: [(String, ScriptedBatchProvider.Script, Int, Int)] = [
        ("succeeded", .init(end: .succeed), 0, 3),
        ("expired", .init(end: .expire), 3, 0),
        ("failed", .init(end: .fail), 3, 0),
        ("stuck past the deadline", .init(end: .stuck), 3, 0),
        ("stuck, cancelled after processing 2", .init(end: .stuck, processedBeforeCancel: 2), 1, 2),
    ]

    @Test("a batch's end decides which beats go online", arguments: ends.indices)
    func endDecidesFallback(_ which: Int) async throws {
        let (label, script, online, fromBatch) = Self.ends[which]
        let dir = TempDirectory("batch-end")
        let provider = ScriptedBatchProvider(scripts: { _ in script })
        let clock = TestWallClock()
        let board = try makeStoryboard(shots: 1, beats: 3)
        let job = try Self.engine(provider, style: Self.style(), clock: clock).makeJob(storyboard: board, project: dir.url)
        let run = Task { await runJob(job) }
        if script.end == .stuck {
            // Once the batch is out and polled, the job's deadline (60 s) passes.
            let limit = ContinuousClock.now + .seconds(30)
            while provider.batches.first?.polls ?? 0 < 1 && ContinuousClock.now < limit { try await Task.sleep(for: .milliseconds(2)) }
            clock.advance(seconds: 61)
        }
        let (summary, _) = await run.value
        #expect(summary.state == .completed, "\(label)")
        #expect(provider.batches.count == 1, "\(label): never created again")
        #expect(provider.onlinePrompts.count == online, "\(label)")
        let records = try progressRecords(dir.url, style: "clear")
        #expect(records.values.filter { $0.lane == .batch && $0.state == .done }.count == fromBatch, "\(label)")
        #expect(records.values.filter { $0.lane == .online && $0.state == .done }.count == online, "\(label)")
        #expect(summary.styles[0].spend.batchImages == fromBatch)
        #expect(try Self.openEntries(dir.url) == 0)
    }

    @Test func pastTheDeadlineNoNewWaveIsSent() async throws {
        let dir = TempDirectory("batch-late")
        let provider = ScriptedBatchProvider()
        var settings = Self.fastBatch
        settings.deadline = .zero  // over as soon as the job starts
        let job = try Self.engine(provider, style: Self.style(batch: settings)).makeJob(storyboard: Self.board(), project: dir.url)
        let (summary, events) = await runJob(job)
        #expect(summary.state == .completed)
        #expect(provider.batches.isEmpty && provider.onlinePrompts.count == 6)
        let said = events.contains { if case .message(_, let text) = $0 { text.contains("batch deadline has passed") } else { false } }
        #expect(said)
    }

    @Test("a per-request error is retried online or fails the beat, by its class", arguments: [
        (ProviderFailure.transient(status: 500, message: "internal", outcomeUnknown: false), BeatRecord.State.done, 1),
        (.badRequest(message: "prompt rejected"), .failed, 0),
        (.blocked(reason: "SAFETY", message: "blocked"), .failed, 0),
        (.noImage(reason: "NO_IMAGE", message: "text only"), .done, 1),
    ])
    func perRequestError(failure: ProviderFailure, expected: BeatRecord.State, online: Int) async throws {
        let dir = TempDirectory("batch-error")
        let provider = ScriptedBatchProvider(answer: { $0.contains("moment 2") ? failure : nil })
        let board = try makeStoryboard(shots: 1, beats: 3)
        let (summary, _) = await runJob(try Self.engine(provider, style: Self.style()).makeJob(storyboard: board, project: dir.url))
        #expect(summary.styles[0].done + summary.styles[0].failed == 3)
        let record = try #require(try progressRecords(dir.url, style: "clear")["1/1.2"])
        #expect(record.state == expected)
        #expect(provider.onlinePrompts.count == online)
        if expected == .failed { #expect(record.lastError?.contains("beat 1.2") == true) }
        #expect(provider.batches.count == 1)
    }

    @Test("a lost create answer is found by listing, never created again", arguments: [true, false])
    func lostCreateAnswer(created: Bool) async throws {
        let dir = TempDirectory("batch-lost")
        let provider = ScriptedBatchProvider(scripts: { n in
            n == 0 ? .init(loseCreateAnswer: created, failCreateUnsent: !created) : .init()
        })
        let board = try makeStoryboard(shots: 1, beats: 2)
        let (summary, _) = await runJob(try Self.engine(provider, style: Self.style()).makeJob(storyboard: board, project: dir.url))
        #expect(summary.state == .completed)
        #expect(provider.batches.count == 1, "one batch at Gemini")
        #expect(provider.createCalls == (created ? 1 : 2), "created again only when the listing shows it never was")
        #expect(provider.listCalls >= 1)
        #expect(provider.onlinePrompts.isEmpty)
    }

    @Test("a stopped job's batch is collected by the next, not sent again; online delivery cancels it first",
          arguments: [Delivery.batch, .online])
    func resumeCollects(next: Delivery) async throws {
        let dir = TempDirectory("batch-resume")
        let board = try makeStoryboard(shots: 1, beats: 3)
        let provider = ScriptedBatchProvider(scripts: { _ in .init(pendingPolls: 1_000_000, processedBeforeCancel: 1) })
        let job = try Self.engine(provider, style: Self.style()).makeJob(storyboard: board, project: dir.url)
        let run = Task { await runJob(job) }
        let deadline = ContinuousClock.now + .seconds(20)
        while provider.batches.first?.polls ?? 0 < 2 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(2)) }
        run.cancel()
        let (first, _) = await run.value
        #expect(first.state == .cancelled)
        #expect(try Self.openEntries(dir.url) == 1)
        let pending = try progressRecords(dir.url, style: "clear")
        #expect(pending.values.allSatisfy { $0.state == .pending && $0.lane == .batch })

        // The next job: the batch now finishes (batch), or is cancelled having processed one (online).
        provider.finishStuckBatches()
        let (summary, _) = await runJob(
            try Self.engine(provider, style: Self.style(next)).makeJob(storyboard: board, project: dir.url))
        #expect(summary.state == .completed)
        #expect(provider.createCalls == 1, "never created again")
        #expect(try Self.openEntries(dir.url) == 0)
        let records = try progressRecords(dir.url, style: "clear")
        #expect(records.values.allSatisfy { $0.state == .done })
        if next == .online {
            #expect(provider.cancelled == ["batches/b1"])
            #expect(provider.onlinePrompts.count == 2, "the two it did not process")
        }
    }

    @Test func switchingARunningJobOnlineCancelsItsBatchAndSendsOnlyTheUnprocessed() async throws {
        let dir = TempDirectory("batch-switch")
        let board = try makeStoryboard(shots: 1, beats: 3)
        let provider = ScriptedBatchProvider(scripts: { _ in .init(end: .stuck, processedBeforeCancel: 1) })
        let job = try Self.engine(provider, style: Self.style()).makeJob(storyboard: board, project: dir.url)
        let run = Task { await runJob(job) }
        let deadline = ContinuousClock.now + .seconds(20)
        while provider.batches.first?.polls ?? 0 < 2 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(2)) }
        job.goOnline()
        let (summary, events) = await run.value
        #expect(summary.state == .completed)
        #expect(provider.createCalls == 1)
        #expect(provider.cancelled == ["batches/b1"])
        #expect(provider.onlinePrompts.count == 2)
        let records = try progressRecords(dir.url, style: "clear")
        #expect(records["1/1.1"]?.lane == .batch)
        #expect(records["1/1.2"]?.lane == .online && records["1/1.3"]?.lane == .online)
        let said = events.contains { if case .message(_, let text) = $0 { text.contains("switched to online delivery") } else { false } }
        #expect(said)
    }

    @Test("auto goes online when the deadline leaves no time for the waves, and to batch when it does",
          arguments: [(30.0, 0), (600.0, 3)])
    func autoByDeadline(deadline: Double, batches: Int) async throws {
        let dir = TempDirectory("batch-auto")
        let provider = ScriptedBatchProvider()
        var settings = Self.fastBatch
        settings.deadline = .milliseconds(Int64(deadline * 1000))
        settings.minimumWaveTime = .seconds(60)
        let (summary, events) = await runJob(
            try Self.engine(provider, style: Self.style(.auto, batch: settings)).makeJob(storyboard: Self.board(), project: dir.url))
        #expect(summary.state == .completed)
        #expect(provider.batches.count == batches)
        #expect(provider.onlinePrompts.count == (batches == 0 ? 6 : 0))
        if batches == 0 {
            let said = events.contains { if case .message(_, let text) = $0 { text.contains("auto: 3 waves") } else { false } }
            #expect(said)
        }
    }

    /// A request counts 1 KiB plus twice its prompt ("clear: scene 1 moment 1": 1,070 bytes).
    @Test("a wave is split under the inline size limit, each batch within it",
          arguments: [(2_600, 3, 2), (6_000, 2, 5), (1_000_000, 1, 6)])
    func inlineLimitSplitsAWave(limit: Int, batches: Int, largest: Int) async throws {
        let dir = TempDirectory("batch-split")
        let provider = ScriptedBatchProvider()
        var settings = Self.fastBatch
        settings.maxInlineBytes = limit
        let board = try makeStoryboard(shots: 1, beats: 6)
        let (summary, _) = await runJob(try Self.engine(provider, style: Self.style(batch: settings)).makeJob(storyboard: board, project: dir.url))
        #expect(summary.state == .completed)
        #expect(provider.batches.count == batches)
        #expect(provider.batches.map(\.keys.count).max() == largest)
        #expect(provider.batches.reduce(0) { $0 + $1.keys.count } == 6)
        #expect(provider.onlinePrompts.isEmpty)
    }

    @Test func aRateLimitedBatchCallWaitsTheDelayGivenAndGoesOn() async throws {
        let dir = TempDirectory("batch-429")
        let provider = ScriptedBatchProvider(pollFailures: [
            .rateLimited(RateLimit(retryAfter: .milliseconds(30), message: "batch endpoint quota")),
            .transient(status: 503, message: "unavailable", outcomeUnknown: false),
        ])
        let (summary, _) = await runJob(
            try Self.engine(provider, style: Self.style()).makeJob(storyboard: try makeStoryboard(shots: 1, beats: 2), project: dir.url))
        #expect(summary.state == .completed)
        #expect(provider.batches.count == 1 && provider.onlinePrompts.isEmpty)
        #expect(provider.pollFailuresLeft == 0)
    }

    @Test func corruptLedgerFailsTheStyleAndKeepsTheFile() async throws {
        let dir = TempDirectory("batch-corrupt")
        let url = dir.url.appendingPathComponent("image_batches_clear.json")
        try Data("{not json".utf8).write(to: url)
        let provider = ScriptedBatchProvider()
        let (summary, _) = await runJob(
            try Self.engine(provider, style: Self.style()).makeJob(storyboard: try makeStoryboard(shots: 1, beats: 1), project: dir.url))
        #expect(summary.state == .failed)
        #expect(summary.styles[0].error?.contains("image_batches_clear.json") == true)
        #expect(try Data(contentsOf: url) == Data("{not json".utf8))
        #expect(provider.createCalls == 0 && provider.onlinePrompts.isEmpty)
    }
}
