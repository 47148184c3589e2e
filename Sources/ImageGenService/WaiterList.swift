import Synchronization

/// Tasks suspended until a condition on the state behind a `Mutex` holds. A waiter registers under
/// that lock only after finding the condition false there; whoever changes the state takes every
/// waiter under the same lock and resumes them outside it, so no wake-up is lost. A cancelled
/// waiter removes and resumes itself.
struct WaiterList: Sendable {
    private var waiting: [UInt64: CheckedContinuation<Void, Never>] = [:]
    private var lastID: UInt64 = 0

    fileprivate mutating func newID() -> UInt64 {
        lastID += 1
        return lastID
    }

    fileprivate mutating func register(_ continuation: CheckedContinuation<Void, Never>, id: UInt64) {
        waiting[id] = continuation
    }

    fileprivate mutating func remove(_ id: UInt64) -> CheckedContinuation<Void, Never>? {
        waiting.removeValue(forKey: id)
    }

    /// Takes every waiter, to be woken (outside the lock) with ``WakeUps/resume()``.
    mutating func takeAll() -> WakeUps {
        defer { waiting = [:] }
        return WakeUps(continuations: Array(waiting.values))
    }
}

extension Mutex where Value: Copyable {
    /// Suspends until `isSatisfied` holds, re-checked under the lock each time the waiters at
    /// `waiters` are woken, or until the calling task is cancelled.
    func wait(on waiters: any WritableKeyPath<Value, WaiterList> & Sendable, until isSatisfied: (Value) -> Bool) async {
        while !Task.isCancelled, !withLock({ isSatisfied($0) }) {
            let id = withLock { $0[keyPath: waiters].newID() }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let now = withLock { value -> Bool in
                        // A cancellation before this is seen here; one after it finds the waiter.
                        if isSatisfied(value) || Task.isCancelled { return true }
                        value[keyPath: waiters].register(continuation, id: id)
                        return false
                    }
                    if now { continuation.resume() }
                }
            } onCancel: {
                withLock { $0[keyPath: waiters].remove(id) }?.resume()
            }
        }
    }
}
