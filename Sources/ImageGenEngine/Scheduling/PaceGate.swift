internal import Synchronization

/// The last moment a request of one project actually started. The dispatcher already spaces
/// dispatches by the project's pace; the gate also spaces the real starts, so a child task that
/// happened to start late does not squeeze the next request closer than the pace allows.
final class PaceGate: Sendable {
    private let lastStart = Mutex<ContinuousClock.Instant?>(nil)
    let spacing: Duration

    init(spacing: Duration) {
        self.spacing = spacing
    }

    /// Returns when a request may start now; throws `CancellationError` if cancelled while waiting.
    func waitTurn() async throws {
        guard spacing > .zero else { return }
        while true {
            let now = ContinuousClock.now
            let wait: ContinuousClock.Instant? = lastStart.withLock { last in
                if let last, now < last + spacing { return last + spacing }
                last = now
                return nil
            }
            guard let wait else { return }
            try await Task.sleep(until: wait, clock: .continuous)
        }
    }
}
