/// Waiters taken from a ``WaiterList``, to resume once the lock is released.
struct WakeUps: Sendable {
    let continuations: [CheckedContinuation<Void, Never>]

    /// Nothing to wake.
    static let none = WakeUps(continuations: [])

    /// Resumes each waiter; each re-checks its condition.
    func resume() {
        for continuation in continuations { continuation.resume() }
    }
}
