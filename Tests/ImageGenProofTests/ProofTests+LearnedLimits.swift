import FakeGemini
import Foundation
import ImageGenClient
import ImageGenTestSupport
import ImageGenWire
import Logging
import Testing

extension ProofTests {
    static let learningKey = "AIzaLearnedLimitsKey0001"

    /// A server with no pace configured learns the limit the fake's 429s state, keeps it in its
    /// state directory before it is killed (SIGKILL), and the restarted server paces at it from
    /// its first request: no 429 to relearn it, and no slow start.
    @Test(.timeLimit(.minutes(2)))
    func learnedLimitsSurviveAKilledServer() async throws {
        let workspace = try ProofWorkspace("learned")
        defer { workspace.remove() }
        let beats: (String, Int) -> [ProofStoryboard.Beat] = { name, count in
            (1...count).map { ("\(name)\($0)", "a pier, view \($0)", "cut") }
        }
        try workspace.makeProject("first", storyboard: ProofStoryboard(shots: [(id: "f", beats: beats("f", 5))]))
        try workspace.makeProject("second", storyboard: ProofStoryboard(shots: [(id: "s", beats: beats("s", 4))]))
        try workspace.writeConfig(#"{"durability":"none","retry":{"baseDelaySeconds":0.05}}"#)
        let quiet = Logger(label: "fake-gemini", factory: { _ in SwiftLogNoOpLogHandler() })
        // First: 30 per minute, no two requests closer than 2 s; a slow start (60) overshoots at once and is told.
        let strict = FakeGeminiServer(
            configuration: FakeGeminiConfiguration(
                keys: [Self.learningKey: "pier-1"], limiter: .tokenBucket(burst: 1, perMinute: 30), latency: .milliseconds(30)),
            logger: quiet)
        // Second: 10 per 5 s, which 4 requests never fill; what it sees is the engine's own pace.
        let roomy = FakeGeminiServer(
            configuration: FakeGeminiConfiguration(
                keys: [Self.learningKey: "pier-1"], limiter: .slidingWindow(requests: 10, window: .seconds(5)), latency: .milliseconds(30)),
            logger: quiet)
        let strictPort = try await strict.start()
        let roomyPort = try await roomy.start()
        defer { Task { try? await strict.shutdown(); try? await roomy.shutdown() } }
        func launcher(_ port: Int) -> ServerLauncher {
            ServerLauncher(arguments: workspace.serverArguments(config: true), environment: [
                "IMAGEGEN_GEMINI_BASE_URL": "http://127.0.0.1:\(port)", "IMAGEGEN_KEYS_ILLUSTRATION": "pier-1:\(Self.learningKey)",
            ])
        }
        let file = workspace.stateDirectory.appendingPathComponent("learned-limits.json")

        let first = try await launcher(strictPort).launch()
        do {
            let client = try await ServerLauncher.client(first)
            defer { client.close() }
            let events = try await EventStreams.collect(
                try await client.startGeneration(StartGenerationRequest(projectDir: "first", styles: ["illustration"]), timeout: .seconds(60)))
            #expect(EventStreams.finished(events)?.state == .completed)
            #expect(strict.requestLog().contains { $0.status == 429 }, "the limit is found by pushing until refused")
            #expect(events.contains { event in
                if case .message(let text)? = event.kind { return text.contains("Gemini states a limit of 30 requests per minute") }
                return false
            })
        }
        _ = try? await first.process.stop(signal: SIGKILL, timeout: .seconds(5))
        let kept = try String(contentsOf: file, encoding: .utf8)
        #expect(kept.contains(#""project" : "pier-1""#) && kept.contains(#""requestsPerMinute" : 30"#), "\(kept)")
        #expect(!kept.contains(Self.learningKey))

        let second = try await launcher(roomyPort).launch()
        do {
            #expect(second.process.stdout.contains("learned limits: 1 quota"), "\(second.process.stdout)")
            let client = try await ServerLauncher.client(second)
            defer { client.close() }
            let events = try await EventStreams.collect(
                try await client.startGeneration(StartGenerationRequest(projectDir: "second", styles: ["illustration"]), timeout: .seconds(60)))
            #expect(EventStreams.finished(events)?.state == .completed)
            let log = roomy.requestLog()
            #expect(log.count == 4 && log.allSatisfy { $0.status == 200 }, "no 429 to relearn it: \(log.map(\.kind))")
            // Arrivals, not starts: a loaded machine moves them by tens of ms.
            let gaps = zip(log.dropFirst(), log).map { $0.time.timeIntervalSince($1.time) }
            #expect(gaps.first.map { $0 > 1.8 } == true, "the learned pace's first gap (2.5 s), not a slow start's (1 s): \(gaps)")
            #expect(gaps.allSatisfy { $0 >= 1.6 }, "never faster than 30 per minute: \(gaps)")
        }
        await ServerLauncher.stop(second.process)
    }
}
