public import Testing
import Dispatch
import Foundation

/// Ends the whole test process, naming the test, when a test case outlives its time limit by
/// ``grace``. Swift Testing's `.timeLimit` only cancels a test that is over time, and then waits
/// for it: a test suspended on something that never answers (a continuation, a driver) holds the
/// run until CI's own timeout kills it without a name. With this trait on a suite, such a hang
/// fails the run within minutes and says which test it was. The alarm runs on a Dispatch timer,
/// not on the cooperative pool, so a starved or idle pool cannot silence it. Every test case also
/// passes through ``TestGate/process``: alone when it carries ``RunsAlone`` (the wait for the gate
/// is within the alarm's time, so a gate that never opens is a hang too).
public struct HangWatchdog: TestTrait, SuiteTrait, TestScoping {
    /// How long past its time limit a test may run before the process is ended.
    public static let grace = Duration.seconds(30)
    /// The limit a test without `.timeLimit` gets.
    static let defaultLimit = Duration.seconds(600)

    public var isRecursive: Bool { true }

    /// One alarm per test case (a test without arguments has one case).
    public func scopeProvider(for test: Test, testCase: Test.Case?) -> HangWatchdog? {
        testCase == nil ? nil : self
    }

    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let limit = (test.timeLimit ?? Self.defaultLimit) + Self.grace
        let alarm = HangAlarm(naming: "\(test.id)", after: limit)
        defer { alarm.disarm() }
        try await TestGate.process.run(alone: test.traits.contains { $0 is RunsAlone }) {
            try await function()
        }
    }
}

extension Trait where Self == HangWatchdog {
    /// Ends the test process, naming the test, when a test case hangs past its time limit.
    public static var hangWatchdog: HangWatchdog { HangWatchdog() }
}

/// A one-shot Dispatch timer that writes which test hung to stderr and exits the process.
final class HangAlarm {
    private let timer: any DispatchSourceTimer

    init(naming name: String, after limit: Duration) {
        let timer = DispatchSource.makeTimerSource(queue: .global())
        let seconds = Double(limit.components.seconds) + Double(limit.components.attoseconds) / 1e18
        timer.schedule(deadline: .now() + seconds)
        timer.setEventHandler {
            let message = "\nHANG: test \(name) did not end within \(limit) (its time limit and \(HangWatchdog.grace) of grace, "
                + "the time limit's cancellation not honoured); ending the test process.\n"
            _ = message.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
            _exit(124)
        }
        timer.activate()
        self.timer = timer
    }

    func disarm() { timer.cancel() }
}
