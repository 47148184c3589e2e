internal import Synchronization

/// How much wider than their paces an engine spaces every quota's request starts, in percent,
/// learned from refusals: each 429 that came although the pace kept to the limit Gemini stated
/// means arrivals bunched up more than measured, and widens it by ``step``, up to ``maximum``.
/// Shared by every gate of an engine: the bunching comes from the host and its path to Gemini.
final class PacePushback: Sendable {
    static let step: Double = 1
    static let maximum: Double = 10
    /// Refusals closer together than this are one bunching (several quotas refused at once): one step.
    static let settle: Duration = .seconds(10)

    private struct State {
        var percent = 0.0
        var lastStep: ContinuousClock.Instant?
    }

    private let state: Mutex<State>

    /// Starting from `percent` (what an earlier run learned, from the state directory).
    init(percent: Double = 0) {
        state = Mutex(State(percent: min(Self.maximum, max(0, percent))))
    }

    var percent: Double { state.withLock { $0.percent } }

    /// Widens the spacing by one step, unless it was widened in the last ``settle`` or is at the
    /// ``maximum``; returns the new width, nil when nothing changed.
    func widen(now: ContinuousClock.Instant = .now) -> Double? {
        state.withLock { state in
            if let last = state.lastStep, now - last < Self.settle { return nil }
            guard state.percent < Self.maximum else { return nil }
            state.percent = min(Self.maximum, state.percent + Self.step)
            state.lastStep = now
            return state.percent
        }
    }
}
