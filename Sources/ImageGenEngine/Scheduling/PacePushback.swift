internal import Synchronization

/// How much wider than their paces an engine spaces every quota's request starts, in percent,
/// learned from refusals: each 429 that came although the pace kept to the limit Gemini stated
/// means arrivals bunched up more than measured, and widens it by ``step``, up to ``maximum``;
/// every ``decay`` without such a refusal narrows it by a step again, so one bad minute does not
/// slow the engine for good. Shared by every gate of an engine: the bunching comes from the host
/// and its path to Gemini.
final class PacePushback: Sendable {
    typealias Instant = ContinuousClock.Instant

    static let step: Double = 1
    static let maximum: Double = 10
    /// Refusals closer together than this are one bunching (several quotas refused at once): one step.
    static let settle: Duration = .seconds(10)
    /// A step is given back after this long without a refusal at the stated limit.
    static let decay: Duration = .seconds(600)

    private struct State {
        /// The width set by the last change, at `since`; it narrows from there.
        var base: Double
        var since: Instant
        var lastStep: Instant?

        func percent(at now: Instant) -> Double {
            guard base > 0, now > since else { return base }
            let steps = ((now - since) / PacePushback.decay).rounded(.down)
            return max(0, base - steps * PacePushback.step)
        }
    }

    private let state: Mutex<State>

    /// Starting from `percent` (what an earlier run learned, from the state directory) at `now`.
    init(percent: Double = 0, now: Instant = .now) {
        state = Mutex(State(base: min(Self.maximum, max(0, percent)), since: now))
    }

    /// The width now.
    var percent: Double { percent(at: .now) }

    /// The width at `now`.
    func percent(at now: Instant) -> Double { state.withLock { $0.percent(at: now) } }

    /// Widens the spacing by one step, unless it was widened in the last ``settle`` or is at the
    /// ``maximum``; returns the new width, nil when nothing changed.
    func widen(now: Instant = .now) -> Double? {
        state.withLock { state in
            if let last = state.lastStep, now - last < Self.settle { return nil }
            let current = state.percent(at: now)
            guard current < Self.maximum else { return nil }
            state.base = min(Self.maximum, current + Self.step)
            state.since = now
            state.lastStep = now
            return state.base
        }
    }
}
