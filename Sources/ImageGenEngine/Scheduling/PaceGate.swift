internal import Synchronization

/// The pace of one quota (project and model), shared by every style and job of an engine that
/// spends it: what the quota allows (a ``PaceEstimate``, learned from Gemini's answers and capped
/// by the configuration), and the last moment a request of it started.
///
/// Starts are spaced by 60 s ÷ the pace, and a start waits as much longer as the previous request
/// reached the wire late (its delay from start to wire beyond the smallest recent one, measured as
/// libcurl hands it over: ``SendDelays``), so two requests arrive no closer than the pace even when
/// one was held up on its way out. Spacings are widened by the configured margin and a pushback
/// (``PacePushback``, shared by the engine's quotas:
/// how much arrivals bunch up is a property of the host's path to Gemini, not of one quota) that
/// grows by 1 % (at most once per 10 s, up to 10 %) each time Gemini refused a request although
/// the pace kept to the stated limit.
/// That holds against a limiter
/// that admits no two requests closer than its rate (a token bucket of one), not only against
/// windows, which forgive a late request if the next is on time.
final class PaceGate: Sendable {
    typealias Instant = ContinuousClock.Instant

    private struct State {
        var estimate: PaceEstimate
        /// The configured upper bound, requests per minute.
        var cap: Double?
        var lastStart: Instant?
        /// How much later than the usual least delay the last start's request reached the wire,
        /// once known: the next start waits that much longer, so the two arrive a spacing apart.
        var lastLateness: Duration = .zero
        /// Whether the quota has had a second start: the first gap is wider (``coldStartPercent``).
        var warm = false
        /// When a 429 last changed the estimate.
        var lastChange: Instant?
        var delays = SendDelays()
        let marginPercent: Double

        /// The pace in force, requests per minute; nil when unpaced.
        var pace: Double? {
            guard let rate = estimate.perMinute else { return nil }
            return min(rate, cap ?? rate)
        }

        func spacing(pushbackPercent: Double) -> Duration {
            guard let pace, pace > 0 else { return .zero }
            // Only at a known limit: a learning pace is below it.
            let cold: Double = switch estimate {
            case .configured, .learned: warm ? 0 : PaceGate.coldStartPercent
            case .unpaced, .slowStart, .recovering: 0
            }
            return .seconds(60 / pace * (1 + (marginPercent + pushbackPercent + cold) / 100))
        }

        /// The earliest next start: a spacing after the last, plus how late the last reached the wire.
        func nextStart(after last: Instant, spacing: Duration) -> Instant {
            last + spacing + lastLateness
        }
    }

    /// The gap after a quota's first start is this many percent wider: the first request pays
    /// for a connection (TCP, TLS, the server's side of it) that the next one reuses, so it
    /// arrives later after its start than the next will, by more than the client can measure.
    static let coldStartPercent: Double = 25
    /// A start this many spacings after the last is cold again (its connection has likely gone).
    static let idleSpacings = 10

    let quota: QuotaID
    private let state: Mutex<State>
    private let pushback: PacePushback

    /// - Parameters:
    ///   - configured: requests per minute the configuration allows (nil: learn it; 0: unpaced).
    ///   - learned: a limit learned earlier, and whether it is still fresh.
    ///   - marginPercent: starts are spaced this much wider than the pace.
    ///   - pushback: the engine's widening for refusals at the stated limit.
    init(
        quota: QuotaID, configured: Double?, learned: (perMinute: Double, fresh: Bool)? = nil, marginPercent: Double = 0,
        pushback: PacePushback = PacePushback()
    ) {
        self.quota = quota
        self.pushback = pushback
        var estimate = PaceEstimate(configured: configured, learned: learned.flatMap { $0.fresh ? $0.perMinute : nil })
        if case .slowStart = estimate, let stale = learned, !stale.fresh {
            estimate = .slowStart(perMinute: stale.perMinute)
        }
        let cap = configured.flatMap { $0 > 0 ? $0 : nil }
        state = Mutex(State(estimate: estimate, cap: cap, marginPercent: marginPercent))
    }

    /// A second style or job spending the quota with its own configured value: the lowest
    /// configured value caps it; a configured value replaces a slow start; "learn it" (nil) makes
    /// an unpaced quota learn its pace.
    func adopt(configured: Double?, learned: Double?) {
        state.withLock { state in
            switch configured {
            case 0?:
                return
            case let value?:
                state.cap = min(state.cap ?? value, value)
                switch state.estimate {
                case .unpaced, .slowStart: state.estimate = PaceEstimate(configured: state.cap, learned: learned)
                case .configured, .learned, .recovering: break
                }
            case nil:
                if state.estimate == .unpaced { state.estimate = PaceEstimate(configured: nil, learned: learned) }
            }
        }
    }

    /// The earliest moment the next request may start, as things stand (nil before the first).
    var nextStart: Instant? {
        let percent = pushback.percent
        return state.withLock { state in
            state.lastStart.map { state.nextStart(after: $0, spacing: state.spacing(pushbackPercent: percent)) }
        }
    }

    /// Makes `instant` the last start, warm (tests set up a gate's history without waiting it out).
    func forceLastStart(_ instant: Instant) {
        state.withLock { state in
            state.lastStart = instant
            state.lastLateness = .zero
            state.warm = true
        }
    }

    /// The minimum time between two request starts now.
    var spacing: Duration {
        let percent = pushback.percent
        return state.withLock { $0.spacing(pushbackPercent: percent) }
    }

    /// What the gate holds now.
    var reading: PaceReading {
        let percent = pushback.percent
        return state.withLock { state in
            PaceReading(
                quota: quota, requestsPerMinute: state.pace ?? 0, learnedLimit: state.estimate.learnedLimit,
                configuredLimit: state.cap, phase: state.estimate.phaseName, spacing: state.spacing(pushbackPercent: percent),
                sendDelaySpread: state.delays.spread, pushbackPercent: percent)
        }
    }

    /// Returns when a request may start now, with the instant the gate recorded as its start;
    /// throws `CancellationError` if cancelled while waiting. A start that comes as soon as the
    /// pace allows (requests are waiting on it) lets a learning pace grow.
    @discardableResult
    func waitTurn() async throws -> Instant {
        while true {
            let now = ContinuousClock.now
            let percent = pushback.percent
            let wait: Instant? = state.withLock { state in
                let spacing = state.spacing(pushbackPercent: percent)
                guard spacing > .zero else { return nil }
                guard let last = state.lastStart else {
                    state.lastStart = now
                    return nil
                }
                let earliest = state.nextStart(after: last, spacing: spacing)
                if now < earliest { return earliest }
                // Pace-bound: the request came within a quarter spacing of the earliest start.
                if now - earliest <= spacing / 4 {
                    state.estimate.demand(seconds: (now - last).seconds, cap: state.cap)
                }
                state.lastStart = now
                state.lastLateness = .zero
                // After an idle while, this start opens a connection again: the next gap is wider.
                state.warm = now - last < spacing * Self.idleSpacings
                return nil
            }
            guard let wait else { return now }
            try await Task.sleep(until: wait, clock: .continuous)
        }
    }

    /// A request granted at `startedAt` was on the wire at `sentAt`. When it is the last start,
    /// its lateness beyond the least delay seen delays the next start by as much: a request that
    /// reached the wire late must not have the next one arrive right behind it.
    func observeSend(startedAt: Instant, sentAt: Instant) {
        guard sentAt >= startedAt else { return }
        state.withLock { state in
            let delay = sentAt - startedAt
            state.delays.add(delay)
            if startedAt == state.lastStart { state.lastLateness = max(.zero, delay - state.delays.least) }
        }
    }

    /// A request that started at `startedAt` was answered 429: the estimate learns from it.
    /// Returns what changed, nil if nothing. A request that started before the pace last changed
    /// says nothing of the pace in force and is ignored (the other requests of one overshoot, a
    /// burst of bare 429s); a limit stated for another model is not this quota's.
    func rateLimited(_ limit: RateLimit, startedAt: Instant? = nil, now: Instant = .now) -> PaceChange? {
        var limit = limit
        if let model = limit.model, model != quota.model { limit.limit = nil }
        let bunched: Bool? = state.withLock { state in
            guard !limit.perDay, let pace = state.pace else { return nil }
            if let startedAt, let changed = state.lastChange, startedAt < changed { return nil }
            // Refused at (nearly) the stated limit: arrivals bunched up more than measured.
            if let stated = limit.limitPerMinute, pace <= stated, pace >= Self.atLimitShare * stated { return true }
            return false
        }
        switch bunched {
        case nil: return nil
        case true?: return pushback.widen(now: now).map { .pushedBack(percent: $0) }
        case false?: return relearn(limit, now: now)
        }
    }

    /// Another server learned `limit` for the quota (through the coordinator): the estimate takes
    /// it as a stated limit, as a 429 of this engine's own would have. Returns the change; nil
    /// when the estimate holds that limit already (or recovers towards it), or is unpaced.
    func adoptLearned(_ limit: Double, now: Instant = .now) -> PaceChange? {
        state.withLock { state -> PaceChange? in
            guard limit > 0, state.estimate.perMinute != nil, state.estimate.learnedLimit != limit else { return nil }
            state.estimate = .learned(limit: limit)
            state.lastChange = now
            return .learned(limit: limit, pace: state.pace ?? limit)
        }
    }

    /// A pace at this share of the stated limit or more is "at the limit": a refusal there is a bunching.
    static let atLimitShare = 0.9

    private func relearn(_ limit: RateLimit, now: Instant) -> PaceChange? {
        state.withLock { state -> PaceChange? in
            guard state.estimate.rateLimited(limit, cap: state.cap) else { return nil }
            state.lastChange = now
            if let stated = limit.limitPerMinute { return .learned(limit: stated, pace: state.pace ?? stated) }
            return .halved(pace: state.pace ?? 0)
        }
    }
}
