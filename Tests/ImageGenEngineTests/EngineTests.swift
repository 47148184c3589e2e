import Foundation
import Synchronization
import ImageGenEngine
import ImageGenTestSupport
import Testing

@Suite("Engine with a scripted provider", .timeLimit(.minutes(2)), .hangWatchdog)
struct EngineTests {
    @Test func allStylesDoneInTheOriginalLayout() async throws {
        let dir = TempDirectory("all")
        let provider = ScriptedProvider()
        let styles = ["illustration", "clear", "consistent"].map {
            fastStyle($0, keys: keys($0, [(nil, "AIzaSecret-\($0)-1111"), (nil, "AIzaSecret-\($0)-2222")]), continuity: $0 == "consistent")
        }
        let engine = ImageEngine(configuration: fastConfiguration(styles: styles), logger: testLogger) { _ in provider }
        let board = try makeStoryboard(shots: 3, beats: 3) { _, b in b == 1 ? .hardCut : .continue }
        let job = try engine.makeJob(storyboard: board, project: dir.url)
        let (summary, events) = await runJob(job)
        #expect(summary.state == .completed)
        #expect(summary.styles.map(\.done) == [9, 9, 9])
        #expect(summary.styles.allSatisfy { $0.spend.requests == 9 && $0.spend.imagesReceived == 9 && $0.spend.usage.totalTokens == 990 })
        #expect(provider.recorded.count == 27)
        for style in ["illustration", "clear", "consistent"] {
            let records = try progressRecords(dir.url, style: style)
            #expect(records.count == 9)
            for shot in 1...3 {
                for beat in 1...3 {
                    let record = try #require(records["\(shot)/\(shot).\(beat)"])
                    #expect(record.state == .done)
                    #expect(record.file == "generated_images/\(style)/Shot_\(shot)/Beat_\(shot).\(beat).png")
                    let data = try Data(contentsOf: dir.url.appendingPathComponent(record.file!))
                    #expect(data.count == record.bytes)
                    #expect(validatePNG(data) != nil)
                    #expect(record.keyLabel?.hasPrefix("\(style)#") == true)
                    #expect(record.fingerprint?.count == 64)
                }
            }
        }
        // Messages name the provider; events never carry a secret.
        let messages = events.compactMap { if case .message(_, let text) = $0 { text } else { nil } }
        #expect(messages.contains { $0.contains("style clear: provider scripted with 2 keys") })
        #expect(!"\(events)".contains("AIzaSecret"))
        guard case .jobFinished(let last) = events.last else {
            Issue.record("last event is not jobFinished")
            return
        }
        #expect(last.state == .completed)
        // Each style's last counters: every beat done.
        let counters = Dictionary(
            events.compactMap { if case .progress(let counters) = $0 { (counters.style, counters) } else { nil } },
            uniquingKeysWith: { _, last in last })
        #expect(counters.count == 3 && counters.values.allSatisfy { $0.completed == 9 && $0.percent == 100 })
        let status = try await ProjectStatus.read(project: dir.url, styles: ["illustration", "clear", "consistent"], storyboard: board)
        #expect(status.isComplete)
        // Without a storyboard, the records alone answer; a style never run is not complete.
        let fromRecords = try await ProjectStatus.read(project: dir.url, styles: ["clear", "noir"])
        #expect(fromRecords.styles[0].isComplete && fromRecords.styles[0].done == 9)
        #expect(!fromRecords.styles[1].isComplete && !fromRecords.isComplete)
        // Progress files hold key labels, never keys.
        for style in ["illustration", "clear", "consistent"] {
            let text = try String(contentsOf: dir.url.appendingPathComponent("image_progress_\(style).json"), encoding: .utf8)
            #expect(!text.contains("AIzaSecret"))
        }
    }

    @Test func rateLimitCoolsTheProjectAndMovesTheBeat() async throws {
        let dir = TempDirectory("429")
        let provider = ScriptedProvider(latency: .milliseconds(60)) { request, _ in
            if request.key.project == "slow", request.prompt.hasSuffix("moment 1") {
                throw ProviderFailure.rateLimited(retryAfter: .milliseconds(2000), perDay: false, message: "quota")
            }
            return nil
        }
        let style = fastStyle("clear", keys: keys("clear", [("slow", "AIzaSlowKey00001"), ("fast", "AIzaFastKey00002")]), inFlight: 1)
        let engine = ImageEngine(configuration: fastConfiguration(styles: [style]), logger: testLogger) { _ in provider }
        let (summary, events) = await runJob(try engine.makeJob(storyboard: try makeStoryboard(shots: 1, beats: 48), project: dir.url))
        #expect(summary.state == .completed)
        let calls = provider.recorded
        let limited = try #require(calls.first { $0.project == "slow" && $0.prompt.hasSuffix("moment 1") })
        let after = calls.filter { $0.project == "slow" && $0.start > limited.start }
        #expect(after.allSatisfy { $0.start - limited.end! >= .milliseconds(1995) })
        // The beat went on to the other key, not back to the cooled one after its 2 s cool-down (the
        // cooled key 429s this prompt every time: a second try there would show as a second call).
        #expect(calls.filter { $0.project == "fast" && $0.prompt == limited.prompt }.count == 1)
        #expect(calls.filter { $0.project == "slow" && $0.prompt == limited.prompt }.count == 1)
        let cooled = keyUpdates(events).filter { $0.state == .cooling }
        #expect(cooled.count == 1 && cooled.first?.duration == .milliseconds(2000) && cooled.first?.keyLabel == "clear#1…0001")
        #expect(summary.styles[0].spend.rateLimited == 1)
        // The job outlasts the cool-down: the key is reported ready and used again.
        #expect(keyUpdates(events).contains { $0.state == .ready && $0.keyLabel == "clear#1…0001" })
        #expect(!after.isEmpty)
    }

    @Test func bareRateLimitBacksOffExponentially() async throws {
        let dir = TempDirectory("bare429")
        let provider = ScriptedProvider { _, attempt in
            if attempt < 2 { throw ProviderFailure.rateLimited(retryAfter: nil, perDay: false, message: "bare") }
            return nil
        }
        let style = fastStyle(
            "clear", keys: keys("clear", [(nil, "AIzaOnlyKey00001")]), inFlight: 1,
            retry: RetryPolicy(baseDelay: .milliseconds(40), maxDelay: .seconds(1)))
        let engine = ImageEngine(configuration: fastConfiguration(styles: [style]), logger: testLogger) { _ in provider }
        let (summary, events) = await runJob(try engine.makeJob(storyboard: try makeStoryboard(shots: 1, beats: 1), project: dir.url))
        #expect(summary.state == .completed)
        let starts = provider.recorded.map(\.start)
        #expect(starts.count == 3)
        // Backoff with equal jitter: at least half of 40 ms, then half of 80 ms.
        #expect(starts[1] - starts[0] >= .milliseconds(20))
        #expect(starts[2] - starts[1] >= .milliseconds(40))
        #expect(keyUpdates(events).filter { $0.state == .cooling }.count == 2)
    }

    @Test func perDayQuotaSetsTheKeyAside() async throws {
        let dir = TempDirectory("perday")
        let provider = ScriptedProvider { request, _ in
            if request.key.project == "daily" {
                throw ProviderFailure.rateLimited(retryAfter: nil, perDay: true, message: "GenerateRequestsPerDay")
            }
            return nil
        }
        let style = fastStyle("clear", keys: keys("clear", [("daily", "AIzaDailyKey0001"), ("other", "AIzaOtherKey0002")]))
        let engine = ImageEngine(configuration: fastConfiguration(styles: [style]), logger: testLogger) { _ in provider }
        let (summary, events) = await runJob(try engine.makeJob(storyboard: try makeStoryboard(shots: 2, beats: 4), project: dir.url))
        #expect(summary.state == .completed)
        #expect(summary.styles[0].done == 8)
        #expect(provider.recorded.filter { $0.project == "daily" }.count == 1)
        #expect(keyUpdates(events).contains { $0.state == .exhausted && $0.keyLabel == "clear#1…0001" })
    }

    @Test func rejectedKeyIsDisabledAndWorkFinishesOnOthers() async throws {
        let dir = TempDirectory("badkey")
        let provider = ScriptedProvider { request, _ in
            if request.key.secret == "AIzaBadKey000001" { throw ProviderFailure.keyRejected(status: 400, message: "API key not valid") }
            return nil
        }
        let style = fastStyle("clear", keys: keys("clear", [(nil, "AIzaBadKey000001"), (nil, "AIzaGoodKey00002")]))
        let engine = ImageEngine(configuration: fastConfiguration(styles: [style]), logger: testLogger) { _ in provider }
        let (summary, events) = await runJob(try engine.makeJob(storyboard: try makeStoryboard(shots: 2, beats: 3), project: dir.url))
        #expect(summary.state == .completed)
        #expect(provider.recorded.filter { $0.keyLabel == "clear#1…0001" }.count == 1)
        #expect(keyUpdates(events).contains { $0.state == .disabled && $0.keyLabel == "clear#1…0001" })
        #expect(job_status_disabled(events) == 1)
    }

    private func job_status_disabled(_ events: [EngineEvent]) -> Int {
        events.compactMap { if case .progress(let p) = $0 { p.keysDisabled } else { nil } }.last ?? -1
    }

    @Test func styleWithOnlyBadKeysFailsAloneWithAClearMessage() async throws {
        let dir = TempDirectory("allbad")
        let provider = ScriptedProvider { request, _ in
            if request.key.label.hasPrefix("clear#") { throw ProviderFailure.keyRejected(status: 400, message: "API key not valid") }
            return nil
        }
        let styles = [
            fastStyle("illustration", keys: keys("illustration", [(nil, "AIzaIllustr0001")])),
            fastStyle("clear", keys: keys("clear", [(nil, "AIzaClearKeyabcd"), (nil, "AIzaClearKeywxyz")])),
            fastStyle("consistent", keys: []),
        ]
        let engine = ImageEngine(configuration: fastConfiguration(styles: styles), logger: testLogger) { _ in provider }
        let (summary, events) = await runJob(try engine.makeJob(storyboard: try makeStoryboard(shots: 2, beats: 3), project: dir.url))
        #expect(summary.state == .completedWithErrors)
        #expect(summary.styles.map(\.state) == [.completed, .failed, .completed])
        #expect(summary.styles[2].provider == "offline")
        let clear = summary.styles[1]
        #expect(clear.error == "style clear: all 2 keys disabled: clear#1…abcd: API key not valid; clear#2…wxyz: API key not valid")
        #expect(clear.failed == 6)
        #expect(provider.recorded.filter { $0.keyLabel.hasPrefix("clear#") }.count == 2)
        #expect(events.contains { if case .message(_, let text) = $0 { text.hasPrefix("style clear: all 2 keys disabled") } else { false } })
    }

    @Test func configurationFailureFailsTheStyle() async throws {
        let dir = TempDirectory("config")
        let provider = ScriptedProvider { _, _ in throw ProviderFailure.configuration(status: 404, message: "model not found") }
        let engine = ImageEngine(
            configuration: fastConfiguration(styles: [fastStyle("clear", keys: keys("clear", [(nil, "AIzaKey000000001")]))]),
            logger: testLogger) { _ in provider }
        let (summary, _) = await runJob(try engine.makeJob(storyboard: try makeStoryboard(shots: 1, beats: 4), project: dir.url))
        #expect(summary.state == .failed)
        #expect(summary.styles[0].error == "style clear: configuration error (HTTP 404): model not found")
        #expect(provider.recorded.count <= 4)
    }

    @Test func transientFaultsAreRetriedWithinBudget() async throws {
        let dir = TempDirectory("transient")
        let journal = dir.url.appendingPathComponent("image_progress_clear.journal")
        let journalBeforeRetry = Mutex<String?>(nil)
        let provider = ScriptedProvider { request, attempt in
            if request.prompt.hasSuffix("moment 4"), attempt == 1 {
                // The unknown-outcome attempt is on disk before the retry is sent.
                let text = try? String(contentsOf: journal, encoding: .utf8)
                journalBeforeRetry.withLock { $0 = text }
            }
            if request.prompt.hasSuffix("moment 3") {
                throw ProviderFailure.transient(status: 503, message: "overloaded", outcomeUnknown: false)
            }
            if request.prompt.hasSuffix("moment 4") {
                throw ProviderFailure.transient(status: nil, message: "timeout after sending", outcomeUnknown: true)
            }
            if attempt < 2 { throw ProviderFailure.transient(status: 500, message: "internal", outcomeUnknown: false) }
            return nil
        }
        let engine = ImageEngine(
            configuration: fastConfiguration(styles: [fastStyle("clear", keys: keys("clear", [(nil, "AIzaKey000000001")]))]),
            logger: testLogger) { _ in provider }
        let (summary, events) = await runJob(try engine.makeJob(storyboard: try makeStoryboard(shots: 1, beats: 4), project: dir.url))
        #expect(summary.state == .completedWithErrors)
        #expect(summary.styles[0].done == 2)
        #expect(summary.styles[0].failed == 2)
        let calls = provider.recorded
        #expect(calls.filter { $0.prompt.hasSuffix("moment 1") }.count == 3)
        #expect(calls.filter { $0.prompt.hasSuffix("moment 3") }.count == 5)
        #expect(calls.filter { $0.prompt.hasSuffix("moment 4") }.count == 2)
        #expect(summary.styles[0].spend.unknownOutcomeAttempts == 2)
        let records = try progressRecords(dir.url, style: "clear")
        #expect(records["1/1.1"]?.attempts == 3)
        #expect(records["1/1.3"]?.state == .failed)
        #expect(records["1/1.3"]?.lastError?.contains("gave up after 5 attempts") == true)
        #expect(records["1/1.4"]?.unknownOutcomeAttempts == 2)
        let seen = journalBeforeRetry.withLock { $0 } ?? ""
        #expect(seen.contains(#""beat":"1.4""#) && seen.contains(#""unknownOutcomeAttempts":1"#) && seen.contains(#""state":"pending""#))
        #expect(beatUpdates(events, state: .retrying).contains { $0.beatID == "1.1" && $0.retryIn != nil && $0.attempt == 1 })
    }

    @Test func blockedNoImageAndBadRequestFailTheBeatOnly() async throws {
        let dir = TempDirectory("blocked")
        let provider = ScriptedProvider { request, _ in
            if request.prompt.hasSuffix("moment 1") { throw ProviderFailure.blocked(reason: "IMAGE_SAFETY", message: "") }
            if request.prompt.hasSuffix("moment 2") { throw ProviderFailure.noImage(reason: "NO_IMAGE", message: "") }
            if request.prompt.hasSuffix("moment 3") { throw ProviderFailure.badRequest(message: "imageSize") }
            return nil
        }
        let engine = ImageEngine(
            configuration: fastConfiguration(styles: [fastStyle("clear", keys: keys("clear", [(nil, "AIzaKey000000001")]))]),
            logger: testLogger) { _ in provider }
        let (summary, events) = await runJob(try engine.makeJob(storyboard: try makeStoryboard(shots: 1, beats: 4), project: dir.url))
        #expect(summary.styles[0].done == 1)
        #expect(summary.styles[0].failed == 3)
        #expect(summary.styles[0].spend.wastedAttempts == 3)
        let calls = provider.recorded
        #expect(calls.filter { $0.prompt.hasSuffix("moment 1") }.count == 1)
        #expect(calls.filter { $0.prompt.hasSuffix("moment 2") }.count == 2)
        #expect(calls.filter { $0.prompt.hasSuffix("moment 3") }.count == 1)
        let failed = Dictionary(uniqueKeysWithValues: beatUpdates(events, state: .failed).map { ($0.beatID, $0.error ?? "") })
        #expect(failed["1.1"] == "beat 1.1: blocked (IMAGE_SAFETY)")
        #expect(failed["1.2"] == "beat 1.2: no image (NO_IMAGE)")
        #expect(failed["1.3"] == "beat 1.3: request rejected: imageSize")
    }

    @Test func continuityWaitsForThePredecessorOnlyInItsShot() async throws {
        let dir = TempDirectory("continuity")
        let provider = ScriptedProvider(latency: .milliseconds(60))
        let style = fastStyle("consistent", keys: keys("consistent", [(nil, "AIzaKey000000001")]), continuity: true, inFlight: 8)
        let engine = ImageEngine(configuration: fastConfiguration(styles: [style]), logger: testLogger) { _ in provider }
        let board = try makeStoryboard(shots: 2, beats: 3) { _, b in b == 1 ? .hardCut : .continue }
        let (summary, events) = await runJob(try engine.makeJob(storyboard: board, project: dir.url))
        #expect(summary.state == .completed)
        let calls = Dictionary(uniqueKeysWithValues: provider.recorded.map { ($0.prompt, $0) })
        for shot in 1...2 {
            for beat in 2...3 {
                let call = try #require(calls["consistent: scene \(shot) moment \(beat)"])
                let previous = try #require(calls["consistent: scene \(shot) moment \(beat - 1)"])
                #expect(call.start >= previous.end!)
                let previousFile = try Data(
                    contentsOf: dir.url.appendingPathComponent("generated_images/consistent/Shot_\(shot)/Beat_\(shot).\(beat - 1).png"))
                #expect(call.references.map(\.data) == [previousFile])
            }
        }
        // Shot 2 does not wait for shot 1.
        let shot2 = try #require(calls["consistent: scene 2 moment 1"])
        let shot1second = try #require(calls["consistent: scene 1 moment 2"])
        #expect(shot2.start < shot1second.end!)
        #expect(beatUpdates(events, state: .waiting).count == 4)
    }

    @Test func continuityFailureFailsTheFollowers() async throws {
        let dir = TempDirectory("continuityfail")
        let provider = ScriptedProvider { request, _ in
            if request.prompt.hasSuffix("scene 2 moment 2") { throw ProviderFailure.blocked(reason: "SAFETY", message: "") }
            return nil
        }
        let style = fastStyle("consistent", keys: keys("consistent", [(nil, "AIzaKey000000001")]), continuity: true)
        let engine = ImageEngine(configuration: fastConfiguration(styles: [style]), logger: testLogger) { _ in provider }
        let board = try makeStoryboard(shots: 2, beats: 4) { _, b in b == 1 ? .cut : .continue }
        let (summary, events) = await runJob(try engine.makeJob(storyboard: board, project: dir.url))
        #expect(summary.styles[0].done == 5)
        #expect(summary.styles[0].failed == 3)
        let failed = Dictionary(uniqueKeysWithValues: beatUpdates(events, state: .failed).map { ($0.beatID, $0.error ?? "") })
        #expect(failed["2.3"] == "beat 2.3: predecessor 2.2 failed")
        #expect(failed["2.4"] == "beat 2.4: predecessor 2.3 failed")
        #expect(!provider.recorded.contains { $0.prompt.hasSuffix("scene 2 moment 3") })
    }

    @Test func styleReferenceAtHardCutsAndTheFirstBeat() async throws {
        let dir = TempDirectory("reference")
        let shared = Data(try OfflineProvider.render(style: "ref", prompt: "shared", width: 8, height: 8))
        let perStyle = Data(try OfflineProvider.render(style: "ref", prompt: "clear only", width: 8, height: 8))
        try shared.write(to: dir.url.appendingPathComponent("style_reference.png"))
        try perStyle.write(to: dir.url.appendingPathComponent("style_reference_clear.png"))
        let provider = ScriptedProvider()
        let styles = [
            fastStyle("clear", keys: keys("clear", [(nil, "AIzaKey000000001")])),
            fastStyle("illustration", keys: keys("illustration", [(nil, "AIzaKey000000002")])),
        ]
        let engine = ImageEngine(configuration: fastConfiguration(styles: styles), logger: testLogger) { _ in provider }
        let board = try makeStoryboard(shots: 2, beats: 3) { s, b in (s, b) == (2, 2) ? .hardCut : (b == 3 ? .continue : .cut) }
        let (summary, _) = await runJob(try engine.makeJob(storyboard: board, project: dir.url))
        #expect(summary.state == .completed)
        for call in provider.recorded {
            let expected = call.prompt.hasPrefix("clear") ? perStyle : shared
            let withReference = call.prompt.hasSuffix("scene 1 moment 1") || call.prompt.hasSuffix("scene 2 moment 2")
            #expect(call.references.map(\.data) == (withReference ? [expected] : []), "\(call.prompt)")
            #expect(call.references.allSatisfy { $0.mimeType == "image/png" })
        }
    }

    @Test(arguments: [1, 2])
    func paceIsRespectedPerProject(projects: Int) async throws {
        let dir = TempDirectory("pace")
        let provider = ScriptedProvider(latency: .milliseconds(2))
        let keyList = (0..<4).map { (project: "p\($0 % projects)", secret: "AIzaPaceKey000\($0)") }
        let style = fastStyle("clear", keys: keys("clear", keyList), rpm: 1200, inFlight: 4)  // 50 ms apart
        let engine = ImageEngine(configuration: fastConfiguration(styles: [style]), logger: testLogger) { _ in provider }
        let (summary, _) = await runJob(try engine.makeJob(storyboard: try makeStoryboard(shots: 2, beats: 5), project: dir.url))
        #expect(summary.state == .completed)
        for project in 0..<projects {
            let starts = provider.recorded.filter { $0.project == "p\(project)" }.map(\.granted).sorted()
            #expect(starts.count >= 1)
            for (a, b) in zip(starts, starts.dropFirst()) {
                #expect(b - a >= .milliseconds(50), "gap \(b - a)")
            }
        }
        #expect(provider.recorded.count == 10)
        // Keys of one project are used in turn.
        #expect(Set(provider.recorded.map(\.keyLabel)).count == 4)
    }

    @Test(arguments: [0.0, 20.0, 50.0])
    func paceMarginWidensTheSpacing(marginPercent: Double) async throws {
        let dir = TempDirectory("margin")
        let provider = ScriptedProvider(latency: .milliseconds(2))
        let style = fastStyle("clear", keys: keys("clear", [("p", "AIzaMarginKey0001")]), rpm: 1200, inFlight: 2)  // 50 ms
        var configuration = fastConfiguration(styles: [style])
        configuration.paceMarginPercent = marginPercent
        let engine = ImageEngine(configuration: configuration, logger: testLogger) { _ in provider }
        let (summary, _) = await runJob(try engine.makeJob(storyboard: try makeStoryboard(shots: 1, beats: 5), project: dir.url))
        #expect(summary.state == .completed)
        let starts = provider.recorded.map(\.granted).sorted()
        #expect(starts.count == 5)
        let spacing = Duration.milliseconds(50) * (1 + marginPercent / 100)
        for (a, b) in zip(starts, starts.dropFirst()) {
            #expect(b - a >= spacing, "gap \(b - a), spacing \(spacing)")
        }
    }

    @Test func aProjectSharedByTwoStylesIsPacedOnce() async throws {
        let dir = TempDirectory("sharedpace")
        let provider = ScriptedProvider(latency: .milliseconds(2))
        let styles = ["clear", "illustration"].map {
            fastStyle($0, keys: keys($0, [("shared", "AIzaShared\($0)")]), rpm: 1200, inFlight: 2)
        }
        let engine = ImageEngine(configuration: fastConfiguration(styles: styles), logger: testLogger) { _ in provider }
        let (summary, _) = await runJob(try engine.makeJob(storyboard: try makeStoryboard(shots: 1, beats: 4), project: dir.url))
        #expect(summary.state == .completed)
        let starts = provider.recorded.map(\.granted).sorted()
        #expect(starts.count == 8)
        for (a, b) in zip(starts, starts.dropFirst()) {
            #expect(b - a >= .milliseconds(50), "gap \(b - a)")
        }
    }

    @Test func twoJobsOnTheSameKeysShareTheProjectsPace() async throws {
        let first = TempDirectory("sharedjobs-a")
        let second = TempDirectory("sharedjobs-b")
        let provider = ScriptedProvider(latency: .milliseconds(2))
        let style = fastStyle("clear", keys: keys("clear", [("shared", "AIzaSharedAcrossJobs")]), rpm: 1200, inFlight: 2)
        let engine = ImageEngine(configuration: fastConfiguration(styles: [style]), logger: testLogger) { _ in provider }
        let jobA = try engine.makeJob(storyboard: try makeStoryboard(shots: 1, beats: 5), project: first.url)
        let jobB = try engine.makeJob(storyboard: try makeStoryboard(shots: 1, beats: 5), project: second.url)
        async let a = runJob(jobA)
        async let b = runJob(jobB)
        let (summaryA, summaryB) = await (a.0, b.0)
        #expect(summaryA.state == .completed && summaryB.state == .completed)
        // One project, one pace: the two jobs' requests together are 50 ms apart.
        let starts = provider.recorded.map(\.granted).sorted()
        #expect(starts.count == 10)
        for (earlier, later) in zip(starts, starts.dropFirst()) {
            #expect(later - earlier >= .milliseconds(50), "gap \(later - earlier)")
        }
    }

    @Test func jobWideConcurrencyCap() async throws {
        let dir = TempDirectory("cap")
        let inFlight = InFlightCounter()
        let provider = ScriptedProvider { _, _ in
            inFlight.enter()
            try await Task.sleep(for: .milliseconds(10))
            inFlight.leave()
            return nil
        }
        let styles = ["a", "b", "c"].map { fastStyle($0, keys: keys($0, [(nil, "AIzaKey00000000\($0)")]), inFlight: 4) }
        let engine = ImageEngine(configuration: fastConfiguration(styles: styles), logger: testLogger) { _ in provider }
        let (summary, _) = await runJob(
            try engine.makeJob(storyboard: try makeStoryboard(shots: 2, beats: 4), project: dir.url,
                               options: JobOptions(maxConcurrentRequests: 2)))
        #expect(summary.state == .completed)
        #expect(inFlight.maximum <= 2)
    }

    @Test func unknownStyleOptionIsRefused() throws {
        let engine = ImageEngine(configuration: EngineConfiguration(), logger: testLogger)
        let error = #expect(throws: EngineError.self) {
            try engine.makeJob(
                storyboard: try makeStoryboard(shots: 1, beats: 1), project: URL(fileURLWithPath: "/tmp/x"),
                options: JobOptions(styles: ["clear", "sepia"]))
        }
        #expect(error?.code == .invalidOptions)
        #expect(error?.problems == ["unknown style \"sepia\" (known: illustration, clear, consistent)"])
    }
}

/// Counts concurrent entries and remembers the maximum.
final class InFlightCounter: Sendable {
    private let state = Mutex((current: 0, maximum: 0))
    func enter() { state.withLock { $0.current += 1; $0.maximum = max($0.maximum, $0.current) } }
    func leave() { state.withLock { $0.current -= 1 } }
    var maximum: Int { state.withLock { $0.maximum } }
}
