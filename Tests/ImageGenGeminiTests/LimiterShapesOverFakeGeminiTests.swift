import FakeGemini
import Foundation
import ImageGenEngine
import ImageGenTestSupport
import Testing

/// Short versions of `imagegen-bench rate`'s rows: the engine, paced at the fake's limit, keeps to
/// it against each limiter shape (a token bucket of one, fixed windows, a sliding window), and
/// three models on the same three projects get nine quotas' worth, not three. The bounds hold on a
/// machine whose other core is busy (tens of ms of arrival jitter at a 250 ms spacing): every beat
/// done, few refusals, each quota near its pace. How few and how near on a quiet machine is the
/// benchmark's to say (BENCHMARKS.md). Each case runs alone in the test process: beside the other
/// suites, its engine's pacing was woken late enough (a key's first answer after 1.7 s) to halve a
/// quota's rate.
@Suite(
    "Limiter shapes over GeminiProvider and FakeGeminiServer", .serialized, .timeLimit(.minutes(2)), .hangWatchdog, .runsAlone)
struct LimiterShapesOverFakeGeminiTests {
    static let projects = ["p1", "p2", "p3"]
    static let models = ["gemini-3.1-flash-image", "gemini-3-pro-image", "gemini-2.5-flash-image"]
    /// 4 per second per quota: 5 per 1.25 s.
    static let perMinute = 240.0
    static let beatsPerQuota = 8

    static func secret(_ style: Int, _ project: Int) -> String { "AIzaSySHAPE-s\(style)-p\(project)-zzLS0\(style)\(project)" }

    static func board(_ count: Int) throws -> ValidatedStoryboard {
        try ValidatedStoryboard(shots: [
            ValidatedStoryboard.Shot(
                id: "1", beats: (1...count).map { ValidatedStoryboard.Beat(id: "1.\($0)", prompt: "quay \($0)", transition: .cut) })
        ])
    }

    /// Admitted requests per second of one quota, from its second admitted arrival to its last:
    /// the first request of a key goes alone (a key is trusted with more once it has answered), so
    /// the first gap is a round trip, not the pace.
    static func rate(_ log: [FakeGeminiRequestLogEntry]) -> Double {
        let admitted = log.filter { $0.status == 200 }.dropFirst()
        guard let first = admitted.first?.time, let last = admitted.last?.time, admitted.count > 1 else { return 0 }
        return Double(admitted.count - 1) / last.timeIntervalSince(first)
    }

    @Test(arguments: FakeGeminiLimiter.Kind.allCases)
    func thePaceHoldsAgainstEachShape(shape: FakeGeminiLimiter.Kind) async throws {
        let limiter = shape.limiter(requests: 5, window: .milliseconds(1_250))
        var keys: [String: String] = [:]
        for (index, project) in Self.projects.enumerated() { keys[Self.secret(0, index)] = project }
        let fake = FakeGeminiConfiguration(keys: keys, limiter: limiter, latency: .milliseconds(100))
        try await EngineRig.with(fake) { rig in
            let style = rig.style(
                "s", keys: Self.projects.enumerated().map { (Self.secret(0, $0.offset), $0.element) }, rpm: Self.perMinute, inFlight: 4)
            let (summary, _) = try await rig.run(rig.engine([style]), try Self.board(Self.beatsPerQuota * Self.projects.count))
            #expect(summary.styles.first?.done == Self.beatsPerQuota * Self.projects.count)
            let log = rig.log(style: "s")
            let refused = log.filter { $0.status == 429 }.count
            #expect(refused * 4 <= log.count, "\(shape): \(refused) of \(log.count) refused")
            for project in Self.projects {
                let mine = log.filter { $0.project == project }
                let rate = Self.rate(mine)
                let arrivals = mine.map { "\($0.status == 200 ? "" : "!")\(String(format: "%.3f", $0.time.timeIntervalSince(mine[0].time)))" }
                #expect(rate >= 0.5 * Self.perMinute / 60 && rate <= 1.15 * Self.perMinute / 60, "\(shape) \(project): \(rate)/s, arrivals \(arrivals)")
            }
        }
    }

    @Test func threeModelsOnTheSameProjectsAreNineQuotas() async throws {
        var keys: [String: String] = [:]
        for style in 0..<3 { for (index, project) in Self.projects.enumerated() { keys[Self.secret(style, index)] = project } }
        let fake = FakeGeminiConfiguration(
            keys: keys, limiter: .slidingWindow(requests: 5, window: .milliseconds(1_250)), latency: .milliseconds(100))
        try await EngineRig.with(fake) { rig in
            let styles = Self.models.enumerated().map { offset, model -> StyleConfiguration in
                var style = rig.style(
                    "m\(offset)", keys: Self.projects.enumerated().map { (Self.secret(offset, $0.offset), $0.element) },
                    rpm: Self.perMinute, inFlight: 4)
                style.model = model
                return style
            }
            let (summary, _) = try await rig.run(rig.engine(styles), try Self.board(Self.beatsPerQuota * Self.projects.count))
            #expect(summary.styles.allSatisfy { $0.done == Self.beatsPerQuota * Self.projects.count })
            // Each (project, model) at its own pace: were the quota the project's alone, each would get a third.
            for (offset, model) in Self.models.enumerated() {
                for project in Self.projects {
                    let mine = rig.log(style: "m\(offset)").filter { $0.project == project }
                    #expect(mine.allSatisfy { $0.model == model })
                    let rate = Self.rate(mine)
                    #expect(rate >= 0.5 * Self.perMinute / 60, "\(model) on \(project): \(rate)/s")
                }
            }
        }
    }
}
