internal import Synchronization

/// The pace of one quota (project and model), shared by every style and job of an engine that
/// spends it: what the quota allows (a ``PaceEstimate``, learned from Gemini's answers and capped
/// by the configuration), and the last moment a request of it started.
///
/// Starts are spaced by 60 s ÷ the pace, widened by how much the requests' arrivals may bunch up:
/// the spread of the recent delays from a granted start to the request being on the wire
/// (measured, ``SendDelays``), plus a pushback that grows by 1 % of the spacing each time Gemini
/// refused a request although the pace kept to the stated limit. That holds against a limiter
/// that admits no two requests closer than its rate (a token bucket of one), not only against
/// windows, which forgive a late request if the next is on time.
final class PaceGate: Sendable {
    typealias Instant = ContinuousClock.Instant

    private struct State {
        var estimate: PaceEstimate
        /// The configured upper bound, requests per minute.
        var cap: Double?
        var lastStart: Instant?
        var delays = SendDelays()
        var pushback: Duration = .zero
        let marginPercent: Double

        /// The pace in force, requests per minute; nil when unpaced.
        var pace: Double? {
            guard let rate = estimate.perMinute else { return nil }
            return min(rate, cap ?? rate)
        }

        var spacing: Duration {
            guard let pace, pace > 0 else { return .zero }
            let base = Duration.seconds(60 / pace * (1 + marginPercent / 100))
            return base + delays.spread + pushback
        }
    }

    let quota: QuotaID
    private let state: Mutex<State>

    /// - Parameters:
    ///   - configured: requests per minute the configuration allows (nil: learn it; 0: unpaced).
    ///   - learned: a limit learned earlier, and whether it is still fresh.
    ///   - marginPercent: starts are spaced this much wider than the pace.
    init(quota: QuotaID, configured: Double?, learned: (perMinute: Double, fresh: Bool)? = nil, marginPercent: Double = 0) {
        self.quota = quota
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

    /// The minimum time between two request starts now.
    var spacing: Duration { state.withLock { $0.spacing } }

    /// What the gate holds now.
    var reading: PaceReading {
        state.withLock { state in
            PaceReading(
                quota: quota, requestsPerMinute: state.pace ?? 0, learnedLimit: state.estimate.learnedLimit,
                configuredLimit: state.cap, phase: state.estimate.phaseName, spacing: state.spacing,
                sendDelaySpread: state.delays.spread, pushback: state.pushback)
        }
    }

    /// Returns when a request may start now, with the instant the gate recorded as its start;
    /// throws `CancellationError` if cancelled while waiting. A start that comes as soon as the
    /// pace allows (requests are waiting on it) lets a learning pace grow.
    @discardableResult
    func waitTurn() async throws -> Instant {
        while true {
            let now = ContinuousClock.now
            let wait: Instant? = state.withLock { state in
                let spacing = state.spacing
                guard spacing > .zero else { return nil }
                guard let last = state.lastStart else {
                    state.lastStart = now
                    return nil
                }
                if now < last + spacing { return last + spacing }
                // Pace-bound: the request came within a quarter spacing of the earliest start.
                if now - (last + spacing) <= spacing / 4 {
                    state.estimate.demand(seconds: (now - last).seconds, cap: state.cap)
                }
                state.lastStart = now
                return nil
            }
            guard let wait else { return now }
            try await Task.sleep(until: wait, clock: .continuous)
        }
    }

    /// A request granted at `startedAt` was on the wire at `sentAt`.
    func observeSend(startedAt: Instant, sentAt: Instant) {
        guard sentAt >= startedAt else { return }
        state.withLock { $0.delays.add(sentAt - startedAt) }
    }

    /// A request answered 429: the estimate learns from it. Returns what changed, nil if nothing.
    func rateLimited(_ limit: RateLimit) -> PaceChange? {
        state.withLock { state -> PaceChange? in
            guard !limit.perDay, let before = state.pace else { return nil }
            let stated = limit.limitPerMinute
            // Refused although the pace kept to the stated limit: the arrivals bunched up.
            if let stated, before <= stated, state.estimate.learnedLimit == stated || state.cap.map({ $0 <= stated }) == true {
                state.pushback += Duration.seconds(60 / stated) / 100
                return .pushedBack(state.pushback)
            }
            guard state.estimate.rateLimited(limit, cap: state.cap) else { return nil }
            if let stated { return .learned(limit: stated, pace: state.pace ?? stated) }
            return .halved(pace: state.pace ?? 0)
        }
    }
}

/// What a 429 did to a quota's pace.
enum PaceChange: Equatable, Sendable {
    /// Gemini stated the limit; the pace is now `pace` (the limit, or a lower configured cap).
    case learned(limit: Double, pace: Double)
    /// A 429 without a limit: the pace is halved to `pace`, and grows back.
    case halved(pace: Double)
    /// Refused at the stated limit: starts are spaced this much wider from now on.
    case pushedBack(Duration)
}
