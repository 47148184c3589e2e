@testable import ImageGenService
import Synchronization
import ImageGenTestSupport
import Testing

/// The one waiting pattern of the service (ready, job conditions, watchers): no wake-up lost,
/// cancellation honoured.
@Suite("Waiter list", .timeLimit(.minutes(1)), .hangWatchdog)
struct WaiterListTests {
    final class Box: Sendable {
        struct State {
            var count = 0
            var waiters = WaiterList()
        }
        let state = Mutex(State())

        func bump() {
            state.withLock { state in
                state.count += 1
                return state.waiters.takeAll()
            }.resume()
        }
    }

    @Test("waiters racing the change they wait for all return", arguments: [1, 8, 64])
    func noLostWakeUp(waiters: Int) async {
        let box = Box()
        let rounds = 200
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<waiters {
                group.addTask {
                    for round in 1...rounds { await box.state.wait(on: \.waiters) { $0.count >= round } }
                }
            }
            for _ in 0..<rounds {
                await Task.yield()
                box.bump()
            }
        }
        #expect(box.state.withLock { $0.count } == rounds)
    }

    @Test(
        "a cancelled waiter returns though the condition never holds, and leaves no waiter behind",
        arguments: [0, 10, 1_000])
    func cancellation(yieldsBeforeCancel: Int) async {
        let box = Box()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await box.state.wait(on: \.waiters) { $0.count > 0 } }
            // Cancelled before or after it registered: either way it returns.
            for _ in 0..<yieldsBeforeCancel { await Task.yield() }
            group.cancelAll()
        }
        #expect(box.state.withLock { $0.count } == 0)
        #expect(box.state.withLock { $0.waiters.takeAll() }.continuations.isEmpty)
    }
}
