import Foundation
@testable import ImageGenEngine
import ImageGenTestSupport
import Synchronization
import Testing

/// Gemini's quota is per project *and model*: two styles with different models on one project
/// each have their own pace, cool-downs and daily quota; with the same model they share them.
@Suite("Quota identity is (project, model)", .timeLimit(.minutes(2)), .hangWatchdog)
struct QuotaIdentityTests {
    static let modelA = "gemini-3.1-flash-image"
    static let modelB = "gemini-2.5-flash-image"

    /// A style on one key of project "shared" with `model`.
    static func style(_ name: String, model: String, rpm: Double = 0, inFlight: Int = 1) -> StyleConfiguration {
        var style = fastStyle(name, keys: keys(name, [("shared", "AIzaQuotaIdentity\(name)Key1")]), rpm: rpm, inFlight: inFlight)
        style.model = model
        return style
    }

    /// Runs a job while handing each event to `observe` as it comes; returns the summary and every event.
    static func run(_ job: ImageJob, observe: @escaping @Sendable (EngineEvent) -> Void) async -> (JobSummary, [EngineEvent]) {
        async let summary = job.run()
        var events: [EngineEvent] = []
        for await event in job.events {
            observe(event)
            events.append(event)
        }
        return (await summary, events)
    }

    /// A per-minute 429 for model A cools (shared, A) only: model B's requests go on inside A's
    /// cool-down. The cool-down outlasts the test (the job is cancelled once B is done), so B's
    /// requests are inside it whatever the machine's load; B's first request is held in the
    /// provider until the engine has reported A's cool-down, so B's next two come after it.
    @Test func aRateLimitOfOneModelCoolsOnlyThatModel() async throws {
        let dir = TempDirectory("quota-cool")
        let aCooled = Signal()
        let provider = ScriptedProvider { request, attempt in
            if request.model == Self.modelA, attempt == 0, request.prompt.hasSuffix("moment 1") {
                throw ProviderFailure.rateLimited(retryAfter: .seconds(600), perDay: false, message: "PerMinutePerProjectPerModel")
            }
            if request.model == Self.modelB, attempt == 0, request.prompt.hasSuffix("moment 1") {
                #expect(await aCooled.wait(upTo: .seconds(20)), "model A's cool-down was never reported")
            }
            return nil
        }
        let styles = [Self.style("a", model: Self.modelA), Self.style("b", model: Self.modelB)]
        let engine = ImageEngine(configuration: fastConfiguration(styles: styles), logger: testLogger) { _ in provider }
        let job = try engine.makeJob(storyboard: try makeStoryboard(shots: 1, beats: 3), project: dir.url)
        let (summary, events) = await withTaskGroup(of: JobSummary?.self) { group in
            group.addTask { await job.run() }
            var events: [EngineEvent] = []
            var bDone = 0
            for await event in job.events {
                events.append(event)
                if case .key(let key) = event, key.state == .cooling, key.style == "a" { aCooled.fire() }
                if case .beat(let beat) = event, beat.style == "b", beat.state == .done {
                    bDone += 1
                    if bDone == 3 { group.cancelAll() }
                }
            }
            return (await group.next() ?? nil, events)
        }
        #expect(summary?.state == .cancelled, "cancelled once model B was done, model A still cooling")
        let calls = provider.recorded
        let limited = try #require(calls.first { $0.prompt.hasPrefix("a:") && $0.promptAttempt == 0 && $0.end != nil })
        let answered = try #require(limited.end)
        let bAfter = calls.filter { $0.prompt.hasPrefix("b:") && $0.start > answered }
        #expect(bAfter.count >= 2, "model B's requests after A's 429: \(calls.filter { $0.prompt.hasPrefix("b:") }.map { $0.start - answered })")
        let aAgain = calls.filter { $0.prompt.hasPrefix("a:") && $0.start > answered }
        #expect(aAgain.isEmpty, "model A sent into its cool-down: \(aAgain.map { $0.start - answered })")
        let updates = keyUpdates(events)
        let cooling = updates.filter { $0.state == .cooling }
        #expect(cooling.map(\.style) == ["a"], "only model A's key cools, once: \(cooling)")
        #expect(cooling.first?.quota == QuotaID(project: "shared", model: Self.modelA))
        #expect(updates.filter { $0.style == "b" }.isEmpty)
    }

    /// A daily-quota 429 for model A sets (shared, A) aside only: B finishes, also with requests
    /// after the set-aside, and a second job's model A is parked at once while its model B runs.
    @Test func aSpentDailyQuotaOfOneModelSetsAsideOnlyThatModel() async throws {
        let first = TempDirectory("quota-day-a")
        let second = TempDirectory("quota-day-b")
        let aSpent = Signal()
        let provider = ScriptedProvider { request, attempt in
            if request.model == Self.modelA {
                throw ProviderFailure.rateLimited(retryAfter: nil, perDay: true, message: "GenerateRequestsPerDayPerProjectPerModel")
            }
            if attempt == 0, request.prompt.hasSuffix("moment 1"), request.prompt.contains("first") {
                #expect(await aSpent.wait(upTo: .seconds(20)), "model A's spent daily quota was never reported")
            }
            return nil
        }
        let styles = [Self.style("a", model: Self.modelA), Self.style("b", model: Self.modelB)]
        let engine = ImageEngine(configuration: fastConfiguration(styles: styles), logger: testLogger) { _ in provider }
        let jobA = try engine.makeJob(storyboard: try makeStoryboard(shots: 1, beats: 3, subject: "first"), project: first.url)
        let (summaryA, eventsA) = await Self.run(jobA) { event in
            if case .key(let key) = event, key.state == .exhausted, key.style == "a" { aSpent.fire() }
        }
        let (summaryB, eventsB) = await runJob(
            try engine.makeJob(storyboard: try makeStoryboard(shots: 1, beats: 3, subject: "second"), project: second.url))
        for (summary, events) in [(summaryA, eventsA), (summaryB, eventsB)] {
            let a = try #require(summary.styles.first { $0.style == "a" })
            let b = try #require(summary.styles.first { $0.style == "b" })
            #expect(a.state == .failed && a.done == 0, "model A has no usable key: \(a)")
            #expect(a.error?.contains("daily quota exhausted") == true, "the style says why: \(a.error ?? "no error")")
            #expect(b.state == .completed && b.done == 3, "model B finishes: \(b)")
            let exhausted = keyUpdates(events).filter { $0.state == .exhausted }
            #expect(exhausted.map(\.quota) == [QuotaID(project: "shared", model: Self.modelA)])
            #expect(keyUpdates(events).filter { $0.style == "b" }.isEmpty)
        }
        let calls = provider.recorded
        #expect(calls.filter { $0.prompt.hasPrefix("a:") }.count == 1, "one request found (shared, A) spent; no more were sent")
        #expect(calls.filter { $0.prompt.hasPrefix("b:") }.count == 6)
        #expect(keyUpdates(eventsB).first?.reason.contains("midnight Pacific") == true)
    }

    /// The pace is per quota: styles with different models on one project are each spaced by
    /// their own pace, through their own gate (B is not held by A's slower one); with the same
    /// model they share one gate, spaced by the slower pace, as before.
    @Test(arguments: [false, true])
    func eachModelOnAProjectHasItsOwnPace(sameModel: Bool) async throws {
        let dir = TempDirectory("quota-pace")
        let provider = ScriptedProvider()
        let configuration = fastConfiguration(styles: [
            Self.style("a", model: Self.modelA, rpm: 30, inFlight: 4),
            Self.style("b", model: sameModel ? Self.modelA : Self.modelB, rpm: 600, inFlight: 4),
        ])
        // The spacing a warm gate holds at each pace, margin included.
        func spacing(_ rpm: Double) -> Duration {
            let gate = PaceGate(quota: QuotaID(project: "x", model: "m"), configured: rpm, marginPercent: configuration.paceMarginPercent)
            gate.forceLastStart(.now)
            return gate.spacing
        }
        let slow = spacing(30)
        let fast = spacing(600)
        let engine = ImageEngine(configuration: configuration, logger: testLogger) { _ in provider }
        let (summary, _) = await runJob(try engine.makeJob(storyboard: try makeStoryboard(shots: 1, beats: 2), project: dir.url))
        #expect(summary.state == .completed)
        let calls = provider.recorded
        func gaps(_ calls: [RecordedCall]) -> [Duration] {
            let starts = calls.map(\.granted).sorted()
            return zip(starts.dropFirst(), starts).map { $0 - $1 }
        }
        let a = calls.filter { $0.prompt.hasPrefix("a:") }
        let b = calls.filter { $0.prompt.hasPrefix("b:") }
        #expect(a.count == 2 && b.count == 2)
        if sameModel {
            // One gate for (shared, A): every start of either style is spaced by the slower pace.
            for gap in gaps(calls) { #expect(gap >= slow, "starts on one quota \(gap) apart, pace \(slow)") }
            #expect(engine.paceReadings.map(\.requestsPerMinute) == [30], "one gate, at the slower pace")
        } else {
            for gap in gaps(a) { #expect(gap >= slow, "model A's starts \(gap) apart, pace \(slow)") }
            for gap in gaps(b) { #expect(gap >= fast, "model B's starts \(gap) apart, pace \(fast)") }
            // B's starts passed B's own gate only, at B's pace (how far apart they came depends on the
            // machine's load; that no gate of A's pace held them does not).
            let readings = Dictionary(uniqueKeysWithValues: engine.paceReadings.map { ($0.quota, $0) })
            #expect(readings.count == 2, "one gate per model: \(readings.keys)")
            #expect(readings[QuotaID(project: "shared", model: Self.modelA)]?.requestsPerMinute == 30)
            #expect(readings[QuotaID(project: "shared", model: Self.modelB)]?.requestsPerMinute == 600)
        }
    }
}

/// Fires once; waiters learn whether it fired within a bound (no test waits forever on it).
final class Signal: Sendable {
    private let fired = Mutex(false)
    private let stream: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    init() {
        (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    func fire() {
        guard fired.withLock({ was in defer { was = true }; return !was }) else { return }
        continuation.yield()
        continuation.finish()
    }

    /// True once fired; false if `bound` passed first. One waiter at a time.
    func wait(upTo bound: Duration) async -> Bool {
        if fired.withLock({ $0 }) { return true }
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask { [stream] in
                for await _ in stream { return true }
                return true
            }
            group.addTask {
                try? await Task.sleep(for: bound)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }
}
