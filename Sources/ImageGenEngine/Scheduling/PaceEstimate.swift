import Foundation

/// What the engine believes one quota (``QuotaID``) allows, in requests per minute, and how that
/// belief moves: Gemini's answers teach it, a configured value caps it. Pure: time is passed in.
///
/// - No value configured: a slow start at ``slowStartPerMinute``, doubling for every second that
///   requests wait on the pace, until a 429 says the limit (its `quotaValue`): then ``learned``.
/// - A 429 that names no limit halves the pace, which then grows back by ``recoveryPerSecond``
///   requests per minute for every second requests wait on it (additive increase,
///   multiplicative decrease).
/// - A configured value is an upper bound: the pace starts there and never exceeds it.
indirect enum PaceEstimate: Equatable, Sendable {
    /// `requestsPerMinute` 0: not paced at all.
    case unpaced
    /// Paced at the configured value; Gemini has not said less.
    case configured(perMinute: Double)
    /// No limit known yet: growing while requests wait on it.
    case slowStart(perMinute: Double)
    /// A 429's `quotaValue` said the limit per minute.
    case learned(limit: Double)
    /// A bare 429 halved the pace; it grows back until it reaches the pace of `then`, and becomes
    /// it (nil: no limit known, it keeps growing).
    case recovering(perMinute: Double, then: PaceEstimate?)

    /// Where a slow start begins: modest beside paid tiers, a single 429 above the free tier.
    static let slowStartPerMinute: Double = 60
    /// A slow start's ceiling when nothing is configured (the in-flight cap binds long before).
    static let slowStartMaximum: Double = 6_000
    /// How fast a halved pace grows back, per second of demand.
    static let recoveryPerSecond: Double = 1
    /// The pace never falls below this.
    static let floor: Double = 1

    /// The estimate a quota starts from: the configured value (nil: learn it, 0: unpaced), and a
    /// limit learned earlier (kept in the state directory), which wins when it is lower.
    init(configured: Double?, learned: Double?) {
        switch (configured, learned) {
        case (0?, _): self = .unpaced
        case (let cap?, let limit?): self = limit < cap ? .learned(limit: limit) : .configured(perMinute: cap)
        case (let cap?, nil): self = .configured(perMinute: cap)
        case (nil, let limit?): self = .learned(limit: limit)
        case (nil, nil): self = .slowStart(perMinute: Self.slowStartPerMinute)
        }
    }

    /// The pace before any cap, in requests per minute; nil when unpaced.
    var perMinute: Double? {
        switch self {
        case .unpaced: nil
        case .configured(let rate), .slowStart(let rate), .recovering(let rate, _): rate
        case .learned(let limit): limit
        }
    }

    /// The limit Gemini stated, if any.
    var learnedLimit: Double? {
        switch self {
        case .learned(let limit): limit
        case .recovering(_, let then): then?.learnedLimit
        case .unpaced, .configured, .slowStart: nil
        }
    }

    /// The estimate's phase, by name (metrics, events).
    var phaseName: String {
        switch self {
        case .unpaced: "unpaced"
        case .configured: "configured"
        case .slowStart: "slow_start"
        case .learned: "learned"
        case .recovering: "recovering"
        }
    }

    /// Requests waited on the pace for `seconds`: a slow start doubles per second (at most
    /// doubling per call), a recovery grows additively; a configured or learned pace stays.
    mutating func demand(seconds: Double, cap: Double?) {
        guard seconds > 0 else { return }
        switch self {
        case .slowStart(let rate):
            let grown = rate * min(2, pow(2, seconds))
            self = .slowStart(perMinute: min(grown, cap ?? Self.slowStartMaximum))
        case .recovering(let rate, let then):
            let grown = rate + Self.recoveryPerSecond * seconds
            if let then, let bound = then.perMinute, grown >= min(bound, cap ?? bound) {
                self = then
            } else {
                self = .recovering(perMinute: min(grown, cap ?? Self.slowStartMaximum), then: then)
            }
        case .unpaced, .configured, .learned:
            break
        }
    }

    /// A 429 answered: a stated per-minute limit is learned; a bare one halves the pace; a
    /// per-day one leaves the pace alone (its quota is set aside until midnight Pacific time).
    /// Returns whether the estimate changed.
    @discardableResult
    mutating func rateLimited(_ limit: RateLimit, cap: Double?) -> Bool {
        let before = self
        guard let current = perMinute, !limit.perDay else { return false }
        if let stated = limit.limitPerMinute {
            self = .learned(limit: stated)
        } else {
            let then: PaceEstimate? = switch self {
            case .configured, .learned: self
            case .recovering(_, let then): then
            case .slowStart, .unpaced: nil
            }
            self = .recovering(perMinute: max(Self.floor, min(current, cap ?? current) / 2), then: then)
        }
        return self != before
    }
}
