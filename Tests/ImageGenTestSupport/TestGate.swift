import Synchronization

/// Lets a test case that measures a rate or a delay in the test process run alone in it: such a
/// case (a test or suite with ``RunsAlone``) waits until every other case has ended, and no other
/// starts until it has. The rest run side by side as Swift Testing schedules them. Engines and
/// fakes in the test process share its cooperative pool (two threads here) with every suite that
/// runs beside them, which wakes their pacing late; a server process, or a measurement made
/// alone, does not. Cases are admitted in the order they asked, so a waiting lone case is not
/// starved by the cases that keep starting. Every suite with ``HangWatchdog`` passes its test
/// cases through ``process``.
public final class TestGate: Sendable {
    /// The gate of this test process.
    public static let process = TestGate()

    private struct Waiter {
        let alone: Bool
        let continuation: CheckedContinuation<Void, Never>
    }

    private enum Running {
        case shared(Int)
        case alone
    }

    private struct State {
        var running = Running.shared(0)
        var waiting: [Waiter] = []
    }

    private let state = Mutex(State())

    /// Runs `body` once admitted: alone, or beside other cases that are not alone.
    public func run<T>(alone: Bool, _ body: () async throws -> T) async rethrows -> T {
        await enter(alone: alone)
        defer { leave() }
        return try await body()
    }

    private func enter(alone: Bool) async {
        await withCheckedContinuation { continuation in
            let admitted = state.withLock { state in
                state.waiting.append(Waiter(alone: alone, continuation: continuation))
                return Self.admit(&state)
            }
            for waiter in admitted { waiter.continuation.resume() }
        }
    }

    private func leave() {
        let admitted = state.withLock { state in
            switch state.running {
            case .alone: state.running = .shared(0)
            case .shared(let count): state.running = .shared(count - 1)
            }
            return Self.admit(&state)
        }
        for waiter in admitted { waiter.continuation.resume() }
    }

    /// Admits waiters from the front of the queue while the first one can run.
    private static func admit(_ state: inout State) -> [Waiter] {
        var admitted: [Waiter] = []
        while let first = state.waiting.first {
            switch (state.running, first.alone) {
            case (.shared(0), true): state.running = .alone
            case (.shared(let count), false): state.running = .shared(count + 1)
            default: return admitted
            }
            admitted.append(state.waiting.removeFirst())
            if first.alone { return admitted }
        }
        return admitted
    }
}
