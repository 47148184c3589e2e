@testable import ImageGenCLI
import ImageGenTestSupport
import Testing

/// The waits of a follower answered UNAVAILABLE: doubling from 250 ms to at most 4 s, for a
/// bounded outage; an event ends the outage.
@Suite("ReattachBackoff", .timeLimit(.minutes(1)), .hangWatchdog)
struct ReattachBackoffTests {
    @Test(arguments: [
        (window: 120.0, elapsed: [0.0, 1, 2, 3, 4, 5, 6], expected: [0.25, 0.5, 1, 2, 4, 4, 4] as [Double?]),
        (window: 10.0, elapsed: [0.0, 9.9, 10], expected: [0.25, 0.5, nil]),
        (window: 0.0, elapsed: [0.0], expected: [nil]),
    ])
    func waitsGrowThenGiveUpAtTheWindow(window: Double, elapsed: [Double], expected: [Double?]) {
        var backoff = ReattachBackoff(window: .milliseconds(Int64(window * 1_000)))
        let start = ContinuousClock.now
        let delays = elapsed.map { seconds in backoff.delay(now: start + .milliseconds(Int64(seconds * 1_000))) }
        #expect(delays == expected.map { $0.map { Duration.milliseconds(Int64($0 * 1_000)) } })
        #expect(backoff.inOutage)
    }

    @Test func anEventStartsANewOutage() {
        var backoff = ReattachBackoff(window: .seconds(10))
        let start = ContinuousClock.now
        _ = backoff.delay(now: start)
        _ = backoff.delay(now: start + .seconds(1))
        backoff.reset()
        #expect(!backoff.inOutage)
        // A new outage: the first wait again, and a whole window from its own start.
        #expect(backoff.delay(now: start + .seconds(9)) == .milliseconds(250))
        #expect(backoff.delay(now: start + .seconds(18)) == .milliseconds(500))
        #expect(backoff.delay(now: start + .seconds(19)) == nil)
    }
}
