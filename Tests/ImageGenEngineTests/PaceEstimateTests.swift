import Foundation
@testable import ImageGenEngine
import ImageGenTestSupport
import Testing

/// The pace a quota is held to, as a pure state machine: where it starts, how demand grows it,
/// what each kind of 429 does to it, and that a configured value caps it.
@Suite("PaceEstimate: slow start, learned limits, AIMD, configured cap", .timeLimit(.minutes(1)), .hangWatchdog)
struct PaceEstimateTests {
    @Test(arguments: [
        (nil, nil, PaceEstimate.slowStart(perMinute: PaceEstimate.slowStartPerMinute)),
        (0, nil, .unpaced), (0, 50, .unpaced),
        (60, nil, .configured(perMinute: 60)),
        (60, 30, .learned(limit: 30)),
        (60, 120, .configured(perMinute: 60)),
        (nil, 120, .learned(limit: 120)),
    ] as [(Double?, Double?, PaceEstimate)])
    func startsFromTheConfigurationAndWhatWasLearned(configured: Double?, learned: Double?, expected: PaceEstimate) {
        #expect(PaceEstimate(configured: configured, learned: learned) == expected)
    }

    @Test func aSlowStartDoublesPerSecondOfDemandAtMostTwicePerStartAndStopsAtTheCap() {
        var estimate = PaceEstimate.slowStart(perMinute: 30)
        estimate.demand(seconds: 1, cap: nil)
        #expect(estimate == .slowStart(perMinute: 60))
        estimate.demand(seconds: 5, cap: nil)
        #expect(estimate == .slowStart(perMinute: 120), "one start doubles at most")
        estimate.demand(seconds: 0.5, cap: nil)
        #expect(abs((estimate.perMinute ?? 0) - 120 * 2.0.squareRoot()) < 0.001)
        estimate.demand(seconds: 1, cap: 200)
        #expect(estimate == .slowStart(perMinute: 200))
        estimate.demand(seconds: 0, cap: nil)
        #expect(estimate == .slowStart(perMinute: 200), "no demand, no growth")
    }

    @Test(arguments: [PaceEstimate.configured(perMinute: 60), .learned(limit: 60), .unpaced])
    func aKnownPaceDoesNotGrow(start: PaceEstimate) {
        var estimate = start
        estimate.demand(seconds: 30, cap: nil)
        #expect(estimate == start)
    }

    static let minute429 = RateLimit(retryAfter: .seconds(1), window: .minute, limit: 120, model: "m", message: "q")
    static let bare429 = RateLimit(message: "Resource exhausted.")
    static let day429 = RateLimit(window: .day, limit: 250, message: "q")

    @Test(arguments: [
        (PaceEstimate.slowStart(perMinute: 240), minute429, nil, PaceEstimate.learned(limit: 120)),
        (.configured(perMinute: 200), minute429, 200, .learned(limit: 120)),
        (.learned(limit: 90), minute429, nil, .learned(limit: 120)),
        (.slowStart(perMinute: 80), bare429, nil, .recovering(perMinute: 40, then: nil)),
        (.learned(limit: 120), bare429, nil, .recovering(perMinute: 60, then: .learned(limit: 120))),
        (.configured(perMinute: 100), bare429, 100, .recovering(perMinute: 50, then: .configured(perMinute: 100))),
        (.recovering(perMinute: 40, then: .learned(limit: 120)), bare429, nil, .recovering(perMinute: 20, then: .learned(limit: 120))),
        (.recovering(perMinute: 1.5, then: nil), bare429, nil, .recovering(perMinute: PaceEstimate.floor, then: nil)),
        (.learned(limit: 120), day429, nil, .learned(limit: 120)),
        (.unpaced, minute429, nil, .unpaced),
        (.unpaced, bare429, nil, .unpaced),
    ] as [(PaceEstimate, RateLimit, Double?, PaceEstimate)])
    func whatA429DoesToThePace(start: PaceEstimate, limit: RateLimit, cap: Double?, expected: PaceEstimate) {
        var estimate = start
        estimate.rateLimited(limit, cap: cap)
        #expect(estimate == expected)
    }

    @Test func aHalvedPaceGrowsBackAdditivelyAndBecomesWhatItWas() {
        var estimate = PaceEstimate.recovering(perMinute: 60, then: .learned(limit: 120))
        estimate.demand(seconds: 30, cap: nil)
        #expect(estimate == .recovering(perMinute: 60 + 30 * PaceEstimate.recoveryPerSecond, then: .learned(limit: 120)))
        estimate.demand(seconds: 30, cap: nil)
        #expect(estimate == .learned(limit: 120))
        #expect(estimate.learnedLimit == 120)
        var probing = PaceEstimate.recovering(perMinute: 40, then: nil)
        probing.demand(seconds: 10, cap: 45)
        #expect(probing == .recovering(perMinute: 45, then: nil), "never above the cap")
    }
}

/// A pace gate's spacing: the pace, the wider first gap, the measured spread of send delays, and
/// the engine-wide pushback after refusals at the stated limit.
@Suite("PaceGate spacing", .timeLimit(.minutes(1)), .hangWatchdog)
struct PaceGateSpacingTests {
    static let quota = QuotaID(project: "p", model: "m")

    /// The gap after a first start is a quarter wider; after a second start that came within 10
    /// spacings it is the pace's; a start after a longer idle while is a first start again.
    @Test func theFirstGapIsWiderThenThePaceHolds() async throws {
        let gate = PaceGate(quota: Self.quota, configured: 600)
        let cold = Duration.seconds(0.1 * 1.25)
        #expect(gate.spacing == cold)
        let first = try await gate.waitTurn()
        let second = try await gate.waitTurn()
        #expect(second - first >= cold)
        // A loaded machine may wake the second start late; past 10 spacings (the cold one in force) it counts as idle.
        let idle = cold * PaceGate.idleSpacings
        #expect(gate.spacing == (second - first < idle ? .milliseconds(100) : cold), "second start \(second - first) after the first")
        #expect(gate.reading.phase == "configured" && gate.reading.requestsPerMinute == 600)
        gate.forceLastStart(ContinuousClock.now - .seconds(5))
        try await gate.waitTurn()
        #expect(gate.spacing == cold, "5 s idle: cold again")
    }

    @Test func aRequestThatReachedTheWireLateHoldsTheNextStartBackOnce() async throws {
        #expect(PaceGate(quota: Self.quota, configured: 0).spacing == .zero, "unpaced")
        let gate = PaceGate(quota: Self.quota, configured: 6)
        let first = try await gate.waitTurn()
        gate.observeSend(startedAt: first, sentAt: first + .milliseconds(2))
        // 10 s apart, a quarter more after the first start.
        #expect(gate.nextStart == first + .milliseconds(12_500), "the first request is the least delay: not late")
        // A later start's request, 40 ms later than the least delay on its way out: the next start waits 40 ms more.
        let start = first + .seconds(20)
        gate.forceLastStart(start)
        gate.observeSend(startedAt: start, sentAt: start + .milliseconds(42))
        #expect(gate.nextStart == start + .seconds(10) + .milliseconds(40))
        // Another request's send (not the last start's) changes nothing but the measure.
        gate.observeSend(startedAt: first, sentAt: first + .milliseconds(90))
        #expect(gate.nextStart == start + .seconds(10) + .milliseconds(40))
        #expect(gate.reading.sendDelaySpread == .milliseconds(88), "largest 90 less least 2")
        gate.observeSend(startedAt: start + .seconds(1), sentAt: start)
        #expect(gate.reading.sendDelaySpread == .milliseconds(88), "a send before its start is ignored")
    }

    @Test func aRefusalAtTheStatedLimitWidensEveryQuotaOnceASettle() {
        let pushback = PacePushback()
        let a = PaceGate(quota: Self.quota, configured: 60, pushback: pushback)
        let b = PaceGate(quota: QuotaID(project: "q", model: "m"), configured: 120, pushback: pushback)
        let limit = RateLimit(window: .minute, limit: 60, message: "q")
        let now = ContinuousClock.now
        #expect(a.rateLimited(limit, now: now) == .pushedBack(percent: 1))
        #expect(a.rateLimited(limit, now: now + .seconds(1)) == nil, "the same bunching: one step, told once")
        #expect(b.reading.pushbackPercent == 1)
        #expect(a.rateLimited(limit, now: now + PacePushback.settle) == .pushedBack(percent: 2))
        // A stated limit below the pace is learned instead.
        #expect(b.rateLimited(RateLimit(window: .minute, limit: 90, message: "q")) == .learned(limit: 90, pace: 90))
    }

    @Test func thePushbackNarrowsAgainWithoutRefusals() {
        let start = ContinuousClock.now
        let pushback = PacePushback(percent: 3, now: start)
        #expect(pushback.percent(at: start + PacePushback.decay - .seconds(1)) == 3)
        #expect(pushback.percent(at: start + PacePushback.decay) == 2)
        #expect(pushback.percent(at: start + PacePushback.decay * 5) == 0, "never below 0")
        // A refusal widens from where it has narrowed to, and the narrowing starts again from then.
        let later = start + PacePushback.decay * 2
        #expect(pushback.widen(now: later) == 2)
        #expect(pushback.percent(at: later + PacePushback.decay - .seconds(1)) == 2)
        #expect(pushback.percent(at: later + PacePushback.decay) == 1)
        #expect(PacePushback(percent: 40).percent == PacePushback.maximum, "a file's value is bounded")
    }

    @Test func aStatedLimitAboveTheCapIsLearnedButTheCapHolds() {
        let capped = PaceGate(quota: Self.quota, configured: 60)
        #expect(capped.rateLimited(RateLimit(window: .minute, limit: 500, message: "q")) == .learned(limit: 500, pace: 60))
        #expect(capped.reading.requestsPerMinute == 60 && capped.reading.learnedLimit == 500)
        #expect(capped.reading.pushbackPercent == 0, "far below the stated limit: someone else spends the quota, no bunching")
    }

    @Test func whatARefusalCannotTeach() {
        let now = ContinuousClock.now
        let gate = PaceGate(quota: Self.quota, configured: nil)
        // The overshoot teaches 120; the other requests of it, started before, teach nothing more.
        #expect(gate.rateLimited(RateLimit(window: .minute, limit: 120, message: "q"), startedAt: now, now: now + .milliseconds(5))
            == .learned(limit: 120, pace: 120))
        #expect(gate.rateLimited(RateLimit(window: .minute, limit: 120, message: "q"), startedAt: now + .milliseconds(1)) == nil)
        #expect(gate.rateLimited(RateLimit(message: "bare"), startedAt: now + .milliseconds(2)) == nil, "no halving for a stale start")
        // A bare 429 after the change halves once; the burst it came in does not halve again.
        let later = now + .seconds(1)
        #expect(gate.rateLimited(RateLimit(message: "bare"), startedAt: later, now: later + .milliseconds(5)) == .halved(pace: 60))
        #expect(gate.rateLimited(RateLimit(message: "bare"), startedAt: later + .milliseconds(1)) == nil)
        // A limit stated for another model is not this quota's: a bare 429.
        let other = PaceGate(quota: Self.quota, configured: 100)
        #expect(other.rateLimited(RateLimit(window: .minute, limit: 10, model: "another", message: "q")) == .halved(pace: 50))
        // A per-day 429 leaves the pace alone.
        #expect(PaceGate(quota: Self.quota, configured: 100).rateLimited(RateLimit(window: .day, limit: 10, message: "q")) == nil)
    }

    @Test func aRecoveryUnderACapEnds() {
        var estimate = PaceEstimate.recovering(perMinute: 20, then: .learned(limit: 500))
        estimate.demand(seconds: 15, cap: 30)
        #expect(estimate == .learned(limit: 500), "back where it was, the cap holding it at 30")
    }
}
