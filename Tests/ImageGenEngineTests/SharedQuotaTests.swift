import Foundation
@testable import ImageGenEngine
import ImageGenTestSupport
import Testing

/// A project's quota is one, whichever job spends it: what one job learns from a 429 (a cool-down,
/// a spent daily quota) holds for every other job of the engine on the same project.
@Suite("Quota state shared across jobs", .timeLimit(.minutes(2)), .hangWatchdog)
struct SharedQuotaTests {
    /// The second job is already running when the first one's 429 comes: its first request (the
    /// key's probe: an unverified key has one request out at a time) waits in the provider until the first job has recorded its cool-down, then fail as transient
    /// (nothing to write), so the second job looks at the quota again at once, inside the
    /// cool-down, with no file I/O in between (starting it only after the 429, a loaded run once
    /// took longer than the cool-down to get to its first look).
    @Test func aCoolDownInOneJobHoldsTheOtherJobOffTheProject() async throws {
        let first = TempDirectory("sharedcool-a")
        let second = TempDirectory("sharedcool-b")
        let latch = Latch()
        let provider = ScriptedProvider(latency: .milliseconds(20)) { request, attempt in
            if attempt == 0, request.prompt.contains("first job"), request.prompt.hasSuffix("moment 1") {
                throw ProviderFailure.rateLimited(retryAfter: .milliseconds(1_500), perDay: false, message: "quota")
            }
            if attempt == 0, request.prompt.contains("second job"), request.prompt.hasSuffix("moment 1") {
                await latch.wait()
                throw ProviderFailure.transient(status: 503, message: "held", outcomeUnknown: false)
            }
            return nil
        }
        let style = fastStyle("clear", keys: keys("clear", [("shared", "AIzaSharedCoolKey1")]), inFlight: 2)
        let engine = ImageEngine(configuration: fastConfiguration(styles: [style]), logger: testLogger) { _ in provider }
        let jobB = try engine.makeJob(storyboard: try makeStoryboard(shots: 1, beats: 3, subject: "second job"), project: second.url)
        async let b = runJob(jobB)
        while !provider.recorded.contains(where: { $0.prompt.contains("second job") }) {
            try await Task.sleep(for: .milliseconds(5))
        }
        let jobA = try engine.makeJob(storyboard: try makeStoryboard(shots: 1, beats: 3, subject: "first job"), project: first.url)
        async let a: JobSummary = {
            async let summary = jobA.run()
            for await event in jobA.events {
                if case .key(let key) = event, key.state == .cooling { await latch.open() }
            }
            await latch.open()
            return await summary
        }()
        let (summaryB, eventsB) = await b
        let summaryA = await a
        #expect(summaryA.state == .completed && summaryB.state == .completed)
        let limited = try #require(provider.recorded.first { $0.prompt.contains("first job") && $0.prompt.hasSuffix("moment 1") })
        let secondJob = provider.recorded.filter { $0.prompt.contains("second job") }
        #expect(secondJob.filter { $0.start < limited.start }.count == 1, "the held request went out before the 429")
        let afterTheLimit = secondJob.filter { $0.start > limited.start }
        #expect(afterTheLimit.count == 3, "the held beat again and the two others: \(secondJob.map(\.prompt))")
        for call in afterTheLimit {
            #expect(call.start - limited.end! >= .milliseconds(1_490), "the second job started a request \(call.start - limited.end!) after the 429")
        }
        #expect(keyUpdates(eventsB).contains { $0.state == .cooling && $0.reason.contains("another style or job") })
    }

    /// Two styles on one project share its pace: a request dispatched before the other style's 429
    /// and still waiting for the pace when that 429 starts a cool-down is not sent into it.
    @Test func aRequestWaitingForThePaceIsNotSentIntoACoolDownThatBeganMeanwhile() async throws {
        let dir = TempDirectory("pace-cool")
        let coolDown = Duration.seconds(2)
        let provider = ScriptedProvider { request, attempt in
            if request.prompt.hasPrefix("fast:"), attempt == 0 {
                try await Task.sleep(for: .milliseconds(150))
                throw ProviderFailure.rateLimited(retryAfter: coolDown, perDay: false, message: "quota")
            }
            return nil
        }
        // 50/min: one request start per 1.2 s on the project, whichever style sends it, so the
        // other style's request waits ~1 s past the 429 (150 ms) for its turn: far longer than the
        // engine takes to record the cool-down, even on a loaded machine.
        let styles = [
            fastStyle("fast", keys: keys("fast", [("shared", "AIzaPaceCoolFastKey1")]), rpm: 50, inFlight: 1),
            fastStyle("slow", keys: keys("slow", [("shared", "AIzaPaceCoolSlowKey2")]), rpm: 50, inFlight: 1),
        ]
        let engine = ImageEngine(configuration: fastConfiguration(styles: styles), logger: testLogger) { _ in provider }
        let (summary, _) = await runJob(try engine.makeJob(storyboard: try makeStoryboard(shots: 1, beats: 2), project: dir.url))
        #expect(summary.state == .completed)
        let calls = provider.recorded
        let limited = try #require(calls.first { $0.prompt.hasPrefix("fast:") && $0.promptAttempt == 0 && $0.end != nil })
        let answered = try #require(limited.end)
        // Every request started either before the 429 was answered or after the cool-down.
        let inside = calls.filter { $0.start > answered && $0.start < answered + coolDown - .milliseconds(10) }
        #expect(inside.isEmpty, "sent into the cool-down: \(inside.map { "\($0.prompt) at +\($0.start - answered)" })")
    }

    /// A key whose request is out when another style finds its project's daily quota spent, and
    /// which then comes back rejected: disabled (bad after midnight too), with a key event, not
    /// silently left "exhausted" (the proof's fault test saw that order under load).
    @Test func aKeyRejectedAfterItsProjectsQuotaWasFoundSpentIsDisabled() throws {
        let bad = APIKey(secret: "AIzaBadKeyOfASpentProject", project: "p2", style: "clear", index: 1)
        let good = APIKey(secret: "AIzaGoodKeyOfAnotherOne", project: "p1", style: "clear", index: 2)
        let now = ContinuousClock.now
        var pool = KeyPool(keys: [bad, good], model: "m", requestsPerMinute: 0, maxInFlightPerProject: 1, now: now)
        let acquired = pool.acquire(now: now)
        let slot = try #require(acquired)
        #expect(pool.slots[slot].key.label == bad.label)
        let adopted = pool.adoptSpentDailyQuotas([QuotaID(project: "p2", model: "m"): "daily quota exhausted"])
        #expect(adopted.map(\.0.label) == [bad.label])
        pool.release(slot, answered: false)
        let first = pool.disable(slot, reason: "API key not valid")
        let second = pool.disable(slot, reason: "API key not valid")
        #expect(first && !second, "disabled once, not twice")
        #expect(pool.exhaustedSummary().contains("\(bad.label): API key not valid"))
        #expect(pool.hasUsableKey)
    }

    @Test func aSpentDailyQuotaInOneJobSetsTheProjectAsideForTheNext() async throws {
        let first = TempDirectory("sharedday-a")
        let second = TempDirectory("sharedday-b")
        let provider = ScriptedProvider { request, _ in
            if request.key.project == "daily" {
                throw ProviderFailure.rateLimited(retryAfter: nil, perDay: true, message: "GenerateRequestsPerDay")
            }
            return nil
        }
        let style = fastStyle("clear", keys: keys("clear", [("daily", "AIzaDailySharedKey1"), ("other", "AIzaOtherSharedKey2")]))
        let engine = ImageEngine(configuration: fastConfiguration(styles: [style]), logger: testLogger) { _ in provider }
        let (summaryA, _) = await runJob(try engine.makeJob(storyboard: try makeStoryboard(shots: 1, beats: 4), project: first.url))
        let dailyAfterFirst = provider.recorded.filter { $0.project == "daily" }.count
        let (summaryB, eventsB) = await runJob(try engine.makeJob(storyboard: try makeStoryboard(shots: 1, beats: 4), project: second.url))
        #expect(summaryA.state == .completed && summaryB.state == .completed)
        #expect(dailyAfterFirst == 1)
        #expect(provider.recorded.filter { $0.project == "daily" }.count == 1, "the second job spent a request on a spent project")
        let exhausted = keyUpdates(eventsB).filter { $0.state == .exhausted }
        #expect(exhausted.map(\.keyLabel) == ["clear#1…Key1"])
        #expect(exhausted.first?.reason.contains("midnight Pacific") == true)
    }

    /// Gemini's per-day quotas reset at midnight Pacific time, standard or daylight.
    @Test(arguments: [
        ("2026-11-29T12:00:00Z", "2026-11-30T08:00:00Z"),  // PST (UTC−8)
        ("2026-11-30T07:59:59Z", "2026-11-30T08:00:00Z"),  // one second before midnight PST
        ("2026-11-30T08:00:00Z", "2026-12-01T08:00:00Z"),  // exactly midnight: the next one
        ("2026-07-01T06:59:00Z", "2026-07-01T07:00:00Z"),  // PDT (UTC−7)
        ("2026-03-08T09:00:00Z", "2026-03-09T07:00:00Z"),  // the day daylight time starts
        ("2026-11-01T12:00:00Z", "2026-11-02T08:00:00Z"),  // the day it ends
    ])
    func nextPacificMidnight(now: String, expected: String) throws {
        let formatter = ISO8601DateFormatter()
        let date = try #require(formatter.date(from: now))
        #expect(QuotaBook.nextPacificMidnight(after: date) == formatter.date(from: expected))
    }
}

/// A one-time gate: ``wait()`` returns once ``open()`` was called (at once if it already was).
actor Latch {
    private var isOpen = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func wait() async {
        if isOpen { return }
        await withCheckedContinuation { waiters.append($0) }
    }

    func open() {
        isOpen = true
        for waiter in waiters { waiter.resume() }
        waiters = []
    }
}
