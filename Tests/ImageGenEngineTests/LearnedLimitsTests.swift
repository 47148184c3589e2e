import Foundation
@testable import ImageGenEngine
import ImageGenTestSupport
import Testing

/// Learned limits survive a restart through a real file, and a file that is not one is refused
/// with a message naming it and what is wrong.
@Suite("Learned limits in the state directory", .timeLimit(.minutes(1)), .hangWatchdog)
struct LearnedLimitsTests {
    static func directory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("imagegen-learned-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func whatIsLearnedIsReadBackByANewStore() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent(LearnedLimits.fileName)
        let first = try LearnedLimits.load(file: file)
        #expect(first.entries.isEmpty, "a missing file holds nothing")
        let a = QuotaID(project: "film-a", model: "gemini-3.1-flash-image")
        let b = QuotaID(project: "film-b", model: "gemini-3-pro-image")
        let now = Date()
        #expect(first.record(a, perMinute: 120, now: now))
        #expect(first.record(b, perMinute: 20, now: now))
        #expect(!first.record(a, perMinute: 120, now: now), "the same limit again is not news")
        #expect(first.recordPushback(2) && !first.recordPushback(2))
        try first.persist()
        let second = try LearnedLimits.load(file: file)
        #expect(second.entries.mapValues(\.requestsPerMinute) == [a: 120, b: 20])
        #expect(second.pushbackPercent == 2)
        #expect(PaceGates(learned: second).pushback.percent == 2, "a new engine spaces as wide as the last one learned")
        #expect(second.limit(for: a, now: now)?.fresh == true)
        #expect(second.limit(for: a, now: now + LearnedLimits.freshness + 1)?.fresh == false)
        let text = try String(contentsOf: file, encoding: .utf8)
        #expect(!text.contains("AIza"), "projects and models only")
    }

    @Test func aStaleLimitIsWhereASlowStartBegins() {
        let stale = PaceGate(quota: QuotaID(project: "p", model: "m"), configured: nil, learned: (240, false))
        #expect(stale.reading.phase == "slow_start" && stale.reading.requestsPerMinute == 240)
        let fresh = PaceGate(quota: QuotaID(project: "p", model: "m"), configured: nil, learned: (240, true))
        #expect(fresh.reading.phase == "learned" && fresh.reading.learnedLimit == 240)
    }

    @Test(arguments: [
        ("{", "not a learned-limits document (invalid JSON)"),
        (#"{"version":2,"limits":[]}"#, "version 2, this server reads version 1"),
        (#"{"limits":[]}"#, ".version is missing"),
        (#"{"version":1,"pushbackPercent":11,"limits":[]}"#, "pushbackPercent must be between 0 and 10, not 11.0"),
        (#"{"version":1,"pushbackPercent":-1,"limits":[]}"#, "pushbackPercent must be between 0 and 10, not -1.0"),
        (#"{"version":1,"limits":[{"project":"p","model":"m","requestsPerMinute":0,"learnedAt":"2026-12-01T00:00:00Z"}]}"#,
         "limits[0]: requestsPerMinute must be a number of at least 1, not 0.0"),
        (#"{"version":1,"limits":[{"project":"","model":"m","requestsPerMinute":5,"learnedAt":"2026-12-01T00:00:00Z"}]}"#,
         "limits[0]: project and model must not be empty"),
        (#"{"version":1,"limits":[{"project":"p","model":"m","requestsPerMinute":5,"learnedAt":"2026-12-01T00:00:00Z"},{"project":"p","model":"m","requestsPerMinute":6,"learnedAt":"2026-12-01T00:00:00Z"}]}"#,
         "limits[1]: project p, m is listed twice"),
        (#"{"version":1,"limits":[{"project":"p","model":"m","requestsPerMinute":5,"learnedAt":"yesterday"}]}"#, "limits[0]: Expected date string to be ISO8601-formatted"),
    ])
    func aFileThatIsNotOneIsRefusedByName(text: String, problem: String) throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent(LearnedLimits.fileName)
        try Data(text.utf8).write(to: file)
        #expect {
            _ = try LearnedLimits.load(file: file)
        } throws: { error in
            let message = (error as? EngineError)?.message ?? ""
            return message.contains(file.path) && message.contains(problem)
        }
        #expect(try Data(contentsOf: file) == Data(text.utf8), "left as it was")
    }
}
