public import Foundation
import Synchronization

/// Starts child processes from one dedicated thread that lives as long as the test process.
///
/// A child started through `imagegen-child-guard` gets SIGKILL when its parent *thread* exits
/// (that is how Linux's PR_SET_PDEATHSIG works), and the cooperative pool and Dispatch end idle
/// worker threads at will: a child spawned from one of them would be killed mid-test. Spawned from
/// this thread, which never exits, a child dies exactly when the test process does.
public final class SpawnThread: Sendable {
    /// The one spawning thread of this process.
    public static let shared = SpawnThread()

    private let work = Mutex<[@Sendable () -> Void]>([])
    private let available = DispatchSemaphore(value: 0)

    private init() {
        let thread = Thread { [self] in self.serve() }
        thread.name = "imagegen-spawn"
        thread.start()
    }

    private func serve() -> Never {
        while true {
            available.wait()
            let next = work.withLock { $0.removeFirst() }
            next()
        }
    }

    /// Runs `body` on the spawning thread and returns its result; blocks the caller meanwhile
    /// (a spawn takes milliseconds).
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) throws -> T {
        let outcome = Outcome<T>()
        work.withLock { $0.append { outcome.set(Result { try body() }) } }
        available.signal()
        return try outcome.wait().get()
    }

    /// Starts `process` on the spawning thread.
    public func start(_ process: Process) throws {
        try run { try process.run() }
    }

    /// The result of one piece of work, handed back to the waiting caller.
    private final class Outcome<T: Sendable>: Sendable {
        private let result = Mutex<Result<T, any Error>?>(nil)
        private let done = DispatchSemaphore(value: 0)

        func set(_ value: Result<T, any Error>) {
            result.withLock { $0 = value }
            done.signal()
        }

        func wait() -> Result<T, any Error> {
            done.wait()
            return result.withLock { $0! }
        }
    }
}
