import FakeGemini
import Foundation
import ImageGenClient
import ImageGenTestSupport
import ImageGenWire
import Logging
import Testing

extension ProofTests {
    /// The keys of the fault test: the fake knows all but `badClearKey`.
    static let faultKnownKeys: [String: String] = [
        "AIzaFaultKeyIllustration1": "ill-1", "AIzaFaultKeyIllustration2": "ill-2",
        "AIzaFaultKeyClearGood001": "clear-1",
        "AIzaFaultKeyConsistent01": "cons-1", "AIzaFaultKeyConsistent02": "cons-2",
    ]
    static let badClearKey = "AIzaUnknownClearKey0bad"
    /// The key whose first request the fake answers with a per-day quota.
    static let dailyQuotaKey = "AIzaFaultKeyConsistent02"

    /// Beats whose prompts script a fault, the engine's expected reaction, and what its error must say.
    static let faultBeats: [(id: String, fault: String, recovers: Bool, reason: String)] = [
        ("rl", "rate_limit:1", true, "rate limited"),
        ("se", "server_error:2", true, "HTTP 500"),
        ("un", "unavailable:1", true, "HTTP 503"),
        ("dr", "drop:1", true, "connection lost"),
        ("hg", "hang:1", true, "timed out"),
        ("bb", "broken_base64:1", true, "base64"),
        ("sf", "safety", false, "blocked"),
        ("to", "text_only", false, "no image"),
    ]

    /// Every failure class the fake can script, through the real server process: transient ones
    /// retried until done, blocked and image-less beats failed with their reason, an unknown key
    /// disabled (named by label, never by secret), a spent daily quota set aside; the job ends
    /// COMPLETED_WITH_ERRORS with every recoverable beat done.
    @Test(.timeLimit(.minutes(2)))
    func everyFailureClassGetsItsReaction() async throws {
        let workspace = try ProofWorkspace("faults")
        defer { workspace.remove() }
        var beats: [ProofStoryboard.Beat] = [("ok1", "a quiet harbour at dawn", "hard_cut")]
        for beat in Self.faultBeats {
            beats.append((beat.id, "[[fault:\(beat.fault)]] a harbour scene for \(beat.id)", "cut"))
        }
        beats.append(("ok2", "a harbour at dusk", "cut"))
        let storyboard = ProofStoryboard(shots: [(id: "h", beats: beats)])
        let project = try workspace.makeProject("harbour", storyboard: storyboard)
        try workspace.writeConfig(
            #"{"requestTimeoutSeconds":1.5,"durability":"none","retry":{"baseDelaySeconds":0.1,"maxDelaySeconds":0.4}}"#)

        let fake = FakeGeminiServer(
            configuration: FakeGeminiConfiguration(
                keys: Self.faultKnownKeys, latency: .milliseconds(20), faultRetryDelay: .milliseconds(300),
                faults: [FakeGeminiScriptedFault(.dailyQuota, key: Self.dailyQuotaKey)]),
            logger: Logger(label: "fake-gemini", factory: { _ in SwiftLogNoOpLogHandler() }))
        let fakePort = try await fake.start()
        let environment = [
            "IMAGEGEN_GEMINI_BASE_URL": "http://127.0.0.1:\(fakePort)",
            "IMAGEGEN_KEY_RPM": "600",
            "IMAGEGEN_KEYS_ILLUSTRATION": "proj-1:AIzaFaultKeyIllustration1,proj-2:AIzaFaultKeyIllustration2",
            // The unknown key in a project of its own: in proj-2 it would share the daily quota that
            // consistent#2 finds spent, and be set aside before or without its request.
            "IMAGEGEN_KEYS_CLEAR": "proj-1:AIzaFaultKeyClearGood001,proj-3:\(Self.badClearKey)",
            "IMAGEGEN_KEYS_CONSISTENT": "proj-1:AIzaFaultKeyConsistent01,proj-2:\(Self.dailyQuotaKey)",
        ]
        let server = try await ServerLauncher(arguments: workspace.serverArguments(config: true), environment: environment).launch()
        do {
            let client = try await ServerLauncher.client(server)
            defer { client.close() }
            let started = ContinuousClock.now
            let events = try await EventStreams.collect(
                try await client.startGeneration(StartGenerationRequest(projectDir: "harbour"), timeout: .seconds(60)))
            let elapsed = ContinuousClock.now - started
            #expect(EventStreams.gap(in: events) == nil)
            let finished = try #require(EventStreams.finished(events), "the stream did not end with finished")
            #expect(finished.state == .completedWithErrors, "job ended \(finished.state): \(finished.message)")

            // The same history replays through WatchJob.
            let replay = try await EventStreams.collect(try await client.watchJob(try #require(events.first?.jobID)))
            #expect(replay.map(\.seq) == events.map(\.seq))

            let beatEvents = EventStreams.beatEvents(events)
            for style in Self.styles {
                let summary = finished.styles.first { $0.style == style }
                #expect(summary?.done == UInt32(beats.count - 2) && summary?.failed == 2,
                        "\(style): \(summary.map { "\($0.done) done, \($0.failed) failed, \($0.error)" } ?? "no summary")")
                for beat in Self.faultBeats {
                    let mine = beatEvents.filter { $0.style == style && $0.beatID == beat.id }
                    let last = mine.last
                    if beat.recovers {
                        // A retry may also come from the unknown key or the spent quota meeting this beat first.
                        let retries = mine.filter {
                            $0.state == .retrying && !$0.error.contains("key rejected") && !$0.error.contains("daily quota")
                        }
                        #expect(!retries.isEmpty, "\(style) \(beat.fault): never retried")
                        #expect(retries.allSatisfy { $0.error.contains(beat.reason) }, "\(style) \(beat.fault): \(retries.map(\.error))")
                        #expect(last?.state == .done, "\(style) \(beat.fault): ended \(String(describing: last?.state)) \(last?.error ?? "")")
                    } else {
                        #expect(last?.state == .failed && last?.error.contains(beat.reason) == true,
                                "\(style) \(beat.fault): ended \(String(describing: last?.state)) \(last?.error ?? "")")
                    }
                }
                for id in ["ok1", "ok2"] {
                    #expect(beatEvents.last { $0.style == style && $0.beatID == id }?.state == .done, "\(style) \(id)")
                }
            }

            // Keys: the unknown key disabled by label, the spent daily quota set aside, rate limits cooled.
            let keyEvents = EventStreams.keyEvents(events)
            let disabled = keyEvents.filter { $0.state == .disabled }
            #expect(disabled.count == 1 && disabled.first?.style == "clear" && disabled.first?.keyLabel == "clear#2…0bad",
                    "disabled: \(disabled.map { "\($0.style) \($0.keyLabel): \($0.reason)" })")
            let exhausted = keyEvents.filter { $0.state == .exhausted }
            #expect(exhausted.contains { $0.style == "consistent" && $0.keyLabel == "consistent#2…nt02" },
                    "exhausted: \(exhausted.map { "\($0.style) \($0.keyLabel)" })")
            #expect(keyEvents.contains { $0.state == .cooling }, "no key cooled after rate_limit")

            // No secret anywhere: events, status, the server's output.
            let secrets = Array(Self.faultKnownKeys.keys) + [Self.badClearKey]
            let status = try await client.getStatus(.jobID(events[0].jobID), includeBeats: true)
            let texts = events.map { "\($0)" } + ["\(status)", server.process.stdout, server.process.stderr]
            for secret in secrets {
                #expect(!texts.contains { $0.contains(secret) }, "a secret leaked")
            }

            // The progress files agree: recoverable beats done with valid images, the two others failed with their reason.
            for style in Self.styles {
                let records = try ProgressFile.read(project: project, style: style).beats
                for record in records where record.state == "done" {
                    if let problem = ProgressFile.problem(with: record, project: project) { Issue.record("\(style): \(problem)") }
                }
                #expect(Set(records.filter { $0.state == "failed" }.map(\.beat)) == ["sf", "to"], "\(style) failed records")
                // Sent-but-unanswered attempts (hang, drop, broken body) are counted before the retry.
                for id in ["hg", "dr", "bb"] {
                    #expect(records.first { $0.beat == id }?.unknownOutcomeAttempts == 1, "\(style) \(id): unknown-outcome attempts")
                }
                #expect(records.filter { $0.state == "done" }.count == beats.count - 2, "\(style) done records")
            }
            let log = fake.requestLog()
            print("proof faults: \(log.count) requests to the fake (\(Dictionary(grouping: log, by: \.kind).mapValues(\.count))), job \(elapsed)")
        } catch {
            Issue.record("fault test: \(error); server stderr: \(server.process.stderr.suffix(2_000))")
        }
        await ServerLauncher.stop(server.process)
        try await fake.shutdown()
    }
}
