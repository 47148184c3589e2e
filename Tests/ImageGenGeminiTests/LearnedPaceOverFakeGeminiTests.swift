import FakeGemini
import Foundation
import ImageGenEngine
import ImageGenTestSupport
import Testing

/// The engine learns a quota's pace over the real `GeminiProvider` and the fake: with no pace
/// configured it finds the limit the fake's 429s state and keeps it in the state directory; a
/// new engine reading that file starts at it; a configured pace is never exceeded; a bare 429
/// halves the pace.
@Suite("Learned pace over GeminiProvider and FakeGeminiServer", .serialized, .timeLimit(.minutes(2)), .hangWatchdog)
struct LearnedPaceOverFakeGeminiTests {
    static let secret = "AIzaSyLEARN-pace-key-zzLP01"
    static let model = StyleConfiguration.defaultModel

    static func board(_ count: Int, prefix: String = "pier") throws -> ValidatedStoryboard {
        try ValidatedStoryboard(shots: [
            ValidatedStoryboard.Shot(
                id: "1", beats: (1...count).map { ValidatedStoryboard.Beat(id: "1.\($0)", prompt: "\(prefix) \($0)", transition: .cut) })
        ])
    }

    static func stateFile() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("imagegen-learned-pace-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent(LearnedLimits.fileName)
    }

    static func gaps(_ log: [FakeGeminiRequestLogEntry]) -> [Double] {
        zip(log.dropFirst(), log).map { $0.time.timeIntervalSince($1.time) }
    }

    @Test func anUnconfiguredPaceLearnsTheStatedLimitAndKeepsIt() async throws {
        let file = try Self.stateFile()
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        // 120 per minute, no two requests closer than 0.5 s.
        let fake = FakeGeminiConfiguration(
            keys: [Self.secret: "film-a"], limiter: .tokenBucket(burst: 1, perMinute: 120), latency: .milliseconds(50))
        try await EngineRig.with(fake) { rig in
            let learned = try LearnedLimits.load(file: file)
            let engine = rig.engine([rig.style("s", keys: [(Self.secret, "film-a")], rpm: nil, inFlight: 2)], learnedLimits: learned)
            let (summary, events) = try await rig.run(engine, try Self.board(12))
            #expect(summary.styles.first?.done == 12)
            let refusals = rig.log(style: "s").filter { $0.status == 429 }
            #expect(refusals.count >= 1, "the limit is found by pushing until the fake refuses")
            let reading = try #require(engine.paceReadings.first)
            #expect(reading.quota == QuotaID(project: "film-a", model: Self.model))
            #expect(reading.learnedLimit == 120 && reading.phase == "learned" && reading.requestsPerMinute == 120)
            let messages = events.compactMap { event -> String? in
                if case .message(_, let text) = event { return text }
                return nil
            }
            #expect(messages.contains { $0.contains("project film-a, \(Self.model): Gemini states a limit of 120 requests per minute") })
            let kept = try LearnedLimits.load(file: file)
            #expect(kept.entries[reading.quota]?.requestsPerMinute == 120)
        }
    }

    @Test func aKeyWithoutItsProjectLearnsButKeepsNothing() async throws {
        let file = try Self.stateFile()
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        // The first request is refused with the limit stated (as the bucket would, once the slow
        // start outgrew it; whether it does within 6 requests depends on the machine's speed).
        let fake = FakeGeminiConfiguration(
            keys: [Self.secret: "film-a"], limiter: .tokenBucket(burst: 1, perMinute: 120), latency: .milliseconds(20),
            faultRetryDelay: .milliseconds(100), faults: [FakeGeminiScriptedFault(.rateLimit)])
        try await EngineRig.with(fake) { rig in
            var style = rig.style("s", keys: [(Self.secret, "unused")], rpm: nil, inFlight: 2)
            style.keys = [APIKey(secret: Self.secret, project: nil, style: "s", index: 1)]
            let engine = rig.engine([style], learnedLimits: try LearnedLimits.load(file: file))
            let (summary, _) = try await rig.run(engine, try Self.board(6))
            #expect(summary.styles.first?.done == 6)
            #expect(engine.paceReadings.first?.quota.project == "s#1" && engine.paceReadings.first?.learnedLimit == 120)
            #expect(try LearnedLimits.load(file: file).entries.isEmpty, "s#1 is a place in a key list, not a project to remember")
        }
    }

    @Test func aRestartedEngineStartsAtTheLearnedLimit() async throws {
        let file = try Self.stateFile()
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let quota = QuotaID(project: "film-a", model: Self.model)
        // 30 per minute: slower than a slow start (60), so the first gap tells which one paces.
        let text = #"{"version":1,"limits":[{"project":"film-a","model":"\#(Self.model)","requestsPerMinute":30,"learnedAt":"\#(ISO8601DateFormatter().string(from: Date()))"}]}"#
        try Data(text.utf8).write(to: file)
        // 10 per 5 s: 4 requests never fill it, at any pace; a slow start's first gap would be 1 s.
        let fake = FakeGeminiConfiguration(
            keys: [Self.secret: "film-a"], limiter: .slidingWindow(requests: 10, window: .seconds(5)), latency: .milliseconds(20))
        try await EngineRig.with(fake) { rig in
            let engine = rig.engine(
                [rig.style("s", keys: [(Self.secret, "film-a")], rpm: nil, inFlight: 2)], learnedLimits: try LearnedLimits.load(file: file))
            let (summary, _) = try await rig.run(engine, try Self.board(4))
            #expect(summary.styles.first?.done == 4)
            let log = rig.log(style: "s")
            #expect(log.allSatisfy { $0.status == 200 }, "no 429 to relearn it")
            let gaps = Self.gaps(log)
            // Arrivals, not starts: a loaded machine moves them by tens of ms.
            #expect(gaps.first.map { $0 > 1.8 } == true, "the first gap is the learned pace's (2.5 s), not a slow start's (1 s): \(gaps)")
            #expect(gaps.count == 3 && gaps.allSatisfy { $0 >= 1.6 }, "never faster than 30 per minute: \(gaps)")
            let reading = try #require(engine.paceReadings.first)
            #expect(reading.quota == quota && reading.phase == "learned" && reading.learnedLimit == 30)
        }
    }

    @Test func aConfiguredPaceIsACapEvenWhenGeminiStatesMore() async throws {
        // The first request is refused with a stated limit of 600 per minute; the style is configured at 60.
        let fake = FakeGeminiConfiguration(
            keys: [Self.secret: "film-a"], limiter: .slidingWindow(requests: 600, window: .seconds(60)), latency: .milliseconds(20),
            faultRetryDelay: .milliseconds(50), faults: [FakeGeminiScriptedFault(.rateLimit, key: Self.secret)])
        try await EngineRig.with(fake) { rig in
            let engine = rig.engine([rig.style("s", keys: [(Self.secret, "film-a")], rpm: 60, inFlight: 4)])
            let (summary, _) = try await rig.run(engine, try Self.board(4))
            #expect(summary.styles.first?.done == 4)
            let admitted = rig.log(style: "s").filter { $0.status == 200 }
            let gaps = Self.gaps(admitted)
            // Arrivals, not starts (a loaded machine moves them by tens of ms); at the stated 600 they would be 0.1 s apart.
            #expect(gaps.count == 3 && gaps.allSatisfy { $0 >= 0.9 }, "60 per minute at most: \(gaps)")
            let reading = try #require(engine.paceReadings.first)
            #expect(reading.requestsPerMinute == 60 && reading.configuredLimit == 60 && reading.learnedLimit == 600)
            #expect(reading.pushbackPercent == 0, "refused far below the stated limit is no bunching")
        }
    }

    @Test func aQuotasOwnPaceReplacesTheStyles() async throws {
        let other = "AIzaSyLEARN-pace-key-zzLP02"
        let fake = FakeGeminiConfiguration(keys: [Self.secret: "film-a", other: "film-b"], latency: .milliseconds(10))
        try await EngineRig.with(fake) { rig in
            let style = rig.style("s", keys: [(Self.secret, "film-a"), (other, "film-b")], rpm: 600, inFlight: 1)
            var configuration = EngineConfiguration(styles: [style], durability: .none)
            configuration.quotaPaces = [QuotaID(project: "film-a", model: Self.model): 120, QuotaID(project: "film-c", model: Self.model): 6]
            let provider = rig.provider
            let engine = ImageEngine(configuration: configuration, logger: rig.recorder.logger(label: "engine")) { _ in provider }
            let (summary, _) = try await rig.run(engine, try Self.board(4))
            #expect(summary.styles.first?.done == 4)
            let readings = Dictionary(uniqueKeysWithValues: engine.paceReadings.map { ($0.quota.project, $0) })
            #expect(readings["film-a"]?.configuredLimit == 120 && readings["film-a"]?.requestsPerMinute == 120)
            #expect(readings["film-b"]?.configuredLimit == 600, "the style's, where the quota has none")
            #expect(readings["film-c"] == nil, "a quota no key spends is not paced")
        }
    }

    @Test func aBare429HalvesThePaceAndItGrowsBack() async throws {
        let fake = FakeGeminiConfiguration(
            keys: [Self.secret: "film-a"], latency: .milliseconds(10),
            faults: [FakeGeminiScriptedFault(.rateLimitBare, key: Self.secret)])
        try await EngineRig.with(fake) { rig in
            let engine = rig.engine([rig.style("s", keys: [(Self.secret, "film-a")], rpm: 600, inFlight: 1)])
            let (summary, events) = try await rig.run(engine, try Self.board(3))
            #expect(summary.styles.first?.done == 3)
            let reading = try #require(engine.paceReadings.first)
            #expect(reading.phase == "recovering" && reading.requestsPerMinute > 300 && reading.requestsPerMinute < 600,
                    "halved, then grown while the next requests waited on it: \(reading.requestsPerMinute)")
            #expect(events.contains { event in
                if case .message(_, let text) = event { return text.contains("pace halved to 300 requests per minute") }
                return false
            })
        }
    }
}
