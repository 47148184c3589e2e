internal import Synchronization

/// The last moment a request of one quota (project and model) actually started. The dispatcher
/// already spaces dispatches by the quota's pace; the gate also spaces the real starts, so a child
/// task that happened to start late does not squeeze the next request closer than the pace
/// allows. An engine shares one gate per ``QuotaID`` across its styles and jobs.
final class PaceGate: Sendable {
    private struct State {
        var lastStart: ContinuousClock.Instant?
        var spacing: Duration
    }

    private let state: Mutex<State>

    init(spacing: Duration) {
        state = Mutex(State(lastStart: nil, spacing: spacing))
    }

    /// The minimum time between two request starts.
    var spacing: Duration { state.withLock { $0.spacing } }

    /// Makes the spacing at least `spacing` (the slowest pace configured for the quota wins).
    func widen(to spacing: Duration) {
        state.withLock { $0.spacing = max($0.spacing, spacing) }
    }

    /// Returns when a request may start now, with the instant the gate recorded as its start;
    /// throws `CancellationError` if cancelled while waiting.
    @discardableResult
    func waitTurn() async throws -> ContinuousClock.Instant {
        while true {
            let now = ContinuousClock.now
            let wait: ContinuousClock.Instant? = state.withLock { state in
                guard state.spacing > .zero else { return nil }
                if let last = state.lastStart, now < last + state.spacing { return last + state.spacing }
                state.lastStart = now
                return nil
            }
            guard let wait else { return now }
            try await Task.sleep(until: wait, clock: .continuous)
        }
    }
}
