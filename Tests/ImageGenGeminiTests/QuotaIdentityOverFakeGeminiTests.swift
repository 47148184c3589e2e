import FakeGemini
import Foundation
import ImageGenEngine
import ImageGenTestSupport
import Testing

/// Two styles with different models on one Google Cloud project, over the real `GeminiProvider`
/// and the fake: a 429 for one model's key cools (project, that model) only, and a spent daily
/// quota sets aside (project, that model) only; the other model's style goes on. Checked against
/// the fake's request log and the engine's key events.
@Suite("Quota identity over GeminiProvider and FakeGeminiServer", .serialized, .timeLimit(.minutes(2)), .hangWatchdog)
struct QuotaIdentityOverFakeGeminiTests {
    static let secretA = "AIzaSyQUOTA-model-a-key-zzQA01"
    static let secretB = "AIzaSyQUOTA-model-b-key-zzQB02"
    static let modelA = "gemini-3.1-flash-image"
    static let modelB = "gemini-2.5-flash-image"
    static let coolDown = Duration.seconds(4)

    enum Fault: String, Sendable, CaseIterable {
        case perMinute, perDay
    }

    /// Both keys on project "shared"; the first request with key A meets `fault`.
    static func fake(_ fault: Fault) -> FakeGeminiConfiguration {
        FakeGeminiConfiguration(
            keys: [secretA: "shared", secretB: "shared"], latency: .milliseconds(100),
            faultRetryDelay: coolDown,
            faults: [FakeGeminiScriptedFault(fault == .perMinute ? .rateLimit : .dailyQuota, key: secretA)])
    }

    static func styles(_ rig: EngineRig) -> [StyleConfiguration] {
        var a = rig.style("a", keys: [(secretA, "shared")], inFlight: 1)
        a.model = modelA
        var b = rig.style("b", keys: [(secretB, "shared")], inFlight: 1)
        b.model = modelB
        return [a, b]
    }

    static func board(_ count: Int) throws -> ValidatedStoryboard {
        try ValidatedStoryboard(shots: [
            ValidatedStoryboard.Shot(
                id: "1", beats: (1...count).map { ValidatedStoryboard.Beat(id: "1.\($0)", prompt: "harbour \($0)", transition: .cut) })
        ])
    }

    @Test(arguments: Fault.allCases)
    func oneModelsRateLimitLeavesTheOtherModelOnTheProjectAlone(fault: Fault) async throws {
        try await EngineRig.with(Self.fake(fault)) { rig in
            let (summary, events) = try await rig.run(rig.engine(Self.styles(rig)), try Self.board(6))
            let a = try #require(summary.styles.first { $0.style == "a" })
            let b = try #require(summary.styles.first { $0.style == "b" })
            let logA = rig.log(style: "a")
            let logB = rig.log(style: "b")
            #expect(logA.allSatisfy { $0.model == Self.modelA } && logB.allSatisfy { $0.model == Self.modelB })
            let rejection = try #require(logA.first)
            #expect(rejection.status == 429 && rejection.project == "shared")
            // Model B finishes every beat, and no request of B was refused.
            #expect(b.state == .completed && b.done == 6)
            #expect(logB.count == 6 && logB.allSatisfy { $0.status == 200 })
            // B is not held by A's quota: requests of B arrive inside A's cool-down (4 s), where a B
            // held by it would send none. (That B's last request comes before the cool-down ends
            // is no test: a loaded run took over 3 s for B's six. QuotaIdentityTests holds B's
            // first request until A's cool-down is known, with no timing at all.)
            let coolDownEnd = rejection.time.addingTimeInterval(EngineOverFakeGeminiTests.seconds(Self.coolDown))
            let insideCoolDown = logB.filter { $0.time > rejection.time && $0.time < coolDownEnd }
            #expect(!insideCoolDown.isEmpty,
                    "no request of model B inside model A's cool-down: \(logB.map { $0.time.timeIntervalSince(rejection.time) })")
            let updates = keyUpdates(events)
            #expect(updates.allSatisfy { $0.style == "a" && $0.project == "shared" && $0.model == Self.modelA },
                    "only (shared, \(Self.modelA)) changes state: \(updates)")
            switch fault {
            case .perMinute:
                #expect(a.state == .completed && a.done == 6)
                #expect(updates.first?.state == .cooling)
                let resent = try #require(logA.dropFirst().first)
                #expect(resent.time.timeIntervalSince(rejection.time) >= EngineOverFakeGeminiTests.seconds(Self.coolDown) - 0.05,
                        "model A sent again \(resent.time.timeIntervalSince(rejection.time)) s after a 429 asking for 4 s")
            case .perDay:
                #expect(a.state == .failed && a.done == 0)
                #expect(logA.count == 1, "set aside: no more requests on (shared, \(Self.modelA))")
                #expect(updates.map(\.state) == [.exhausted])
            }
        }
    }
}
