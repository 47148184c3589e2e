import ImageGenService
import ImageGenTestSupport
import Testing

@Suite("EventLog", .timeLimit(.minutes(2)), .hangWatchdog)
struct EventLogTests {
    @Test("sequence numbers start at 1 with no gaps; replay after any seq then follow live", arguments: [0, 1, 5, 10])
    func replayThenLive(after: Int) async throws {
        let log = EventLog<String>()
        for index in 1...10 { log.append { "event \($0) (\(index))" } }
        let subscription = try log.subscribe(after: UInt64(after))
        for index in 11...15 { log.append { "event \($0) (\(index))" } }
        log.finish()
        var seqs: [UInt64] = []
        for try await (seq, event) in subscription {
            #expect(event.hasPrefix("event \(seq) "))
            seqs.append(seq)
        }
        #expect(seqs == Array(UInt64(after + 1)...15))
    }

    @Test("many watchers each see every event once, in order")
    func manyWatchers() async throws {
        let log = EventLog<Int>(watcherBuffer: 10_000)
        let subscriptions = try (0..<50).map { _ in try log.subscribe(after: 0) }
        try await withThrowingTaskGroup(of: [UInt64].self) { group in
            for subscription in subscriptions {
                group.addTask {
                    var seqs: [UInt64] = []
                    for try await (seq, value) in subscription {
                        #expect(UInt64(value) == seq)
                        seqs.append(seq)
                    }
                    return seqs
                }
            }
            for _ in 0..<2_000 { log.append { Int($0) } }
            log.finish()
            for try await seqs in group { #expect(seqs == Array(1...2_000)) }
        }
    }

    @Test("a stalled watcher is cut off with the seq to resume from; others are not slowed")
    func stalledWatcher() async throws {
        let log = EventLog<Int>(watcherBuffer: 100)
        let stalled = try log.subscribe(after: 0)
        let healthy = try log.subscribe(after: 0)
        var stalledIterator = stalled.makeAsyncIterator()
        for _ in 0..<10 { log.append { Int($0) } }
        // The stalled watcher reads 3 events, then stops reading.
        for _ in 0..<3 { _ = try await stalledIterator.next() }
        let clock = ContinuousClock()
        let appendTime = clock.measure {
            for _ in 0..<5_000 { log.append { Int($0) } }
        }
        #expect(appendTime < .seconds(2), "append never waits for watchers")
        await #expect(throws: EventLogError.watcherOverflow(resumeAfter: 3)) { _ = try await stalledIterator.next() }
        // The other watcher read nothing either: it was cut off too, and only those two.
        #expect(log.watcherCount == 0)
        var idle = healthy.makeAsyncIterator()
        await #expect(throws: EventLogError.watcherOverflow(resumeAfter: 0)) { _ = try await idle.next() }
        // A watcher that reads as events come keeps up with a job that produces them steadily.
        let live = try log.subscribe(after: log.lastSeq)
        let reader = Task {
            var count = 0
            for try await _ in live { count += 1 }
            return count
        }
        for _ in 0..<50 {
            for _ in 0..<20 { log.append { Int($0) } }
            await Task.yield()
            try await Task.sleep(for: .milliseconds(1))
        }
        log.finish()
        #expect(try await reader.value == 1_000)
    }

    @Test("a seq older than what is kept is refused, naming the oldest kept")
    func tooOld() throws {
        let log = EventLog<Int>(retention: 10)
        for _ in 0..<25 { log.append { Int($0) } }
        #expect(throws: EventLogError.tooOld(oldestKept: 16)) { _ = try log.subscribe(after: 3) }
        #expect(throws: EventLogError.inFuture(lastSeq: 25)) { _ = try log.subscribe(after: 26) }
        _ = try log.subscribe(after: 15)
    }

    /// How a subscription to a log that starts at seq 101 (a job resumed after a restart) went.
    enum FirstSeqOutcome: Equatable, CustomStringConvertible {
        case replays([UInt64])
        case refused(EventLogError)
        var description: String {
            switch self {
            case .replays(let seqs): "replays \(seqs.first.map(String.init) ?? "-")…\(seqs.last.map(String.init) ?? "-") (\(seqs.count))"
            case .refused(let error): "refused: \(error)"
            }
        }
    }

    @Test("a log that starts at a later seq (a resumed run): after_seq 0, firstSeq − 1, within, beyond, from an earlier run",
          arguments: [
            (UInt64(0), FirstSeqOutcome.replays(Array(101...110))),
            (100, .replays(Array(101...110))),
            (105, .replays(Array(106...110))),
            (110, .replays([])),
            (111, .refused(.inFuture(lastSeq: 110))),
            (1, .refused(.earlierRun(firstSeq: 101))),
            (50, .refused(.earlierRun(firstSeq: 101))),
            (99, .refused(.earlierRun(firstSeq: 101))),
          ])
    func firstSeq(after: UInt64, expected: FirstSeqOutcome) async throws {
        let log = EventLog<UInt64>(firstSeq: 101)
        #expect(log.lastSeq == 100)
        for _ in 0..<10 { log.append { $0 } }
        #expect(log.lastSeq == 110)
        log.finish()
        let outcome: FirstSeqOutcome
        do {
            var seqs: [UInt64] = []
            for try await (seq, value) in try log.subscribe(after: after) {
                #expect(seq == value)
                seqs.append(seq)
            }
            outcome = .replays(seqs)
        } catch let error as EventLogError {
            outcome = .refused(error)
        }
        #expect(outcome == expected)
    }

    @Test("a resumed run's log: seqs go on by 1 from firstSeq; after_seq 0 follows live from its first event; retention still applies")
    func firstSeqLiveAndRetention() async throws {
        let log = EventLog<UInt64>(firstSeq: 10_001, retention: 5)
        // Before its first event: after_seq 0 and firstSeq − 1 wait for it; an earlier run's seq is refused.
        let fromZero = try log.subscribe(after: 0)
        let fromStart = try log.subscribe(after: 10_000)
        #expect(throws: EventLogError.earlierRun(firstSeq: 10_001)) { _ = try log.subscribe(after: 9_999) }
        #expect(throws: EventLogError.inFuture(lastSeq: 10_000)) { _ = try log.subscribe(after: 10_001) }
        for _ in 0..<8 { log.append { $0 } }
        log.finish()
        for subscription in [fromZero, fromStart] {
            var seqs: [UInt64] = []
            for try await (seq, _) in subscription { seqs.append(seq) }
            #expect(seqs == Array(10_001...10_008))
        }
        // Only the newest 5 are kept: after_seq 0 is now too old, like any seq before the oldest kept.
        #expect(throws: EventLogError.tooOld(oldestKept: 10_004)) { _ = try log.subscribe(after: 0) }
        #expect(throws: EventLogError.tooOld(oldestKept: 10_004)) { _ = try log.subscribe(after: 10_000) }
        #expect(throws: EventLogError.earlierRun(firstSeq: 10_001)) { _ = try log.subscribe(after: 7) }
        var kept: [UInt64] = []
        for try await (seq, _) in try log.subscribe(after: 10_003) { kept.append(seq) }
        #expect(kept == Array(10_004...10_008))
    }

    @Test("subscribing to a finished log replays and ends; appends after finish are ignored")
    func finished() async throws {
        let log = EventLog<Int>()
        for _ in 0..<3 { log.append { Int($0) } }
        log.finish()
        #expect(log.append { Int($0) } == nil)
        var seqs: [UInt64] = []
        for try await (seq, _) in try log.subscribe(after: 1) { seqs.append(seq) }
        #expect(seqs == [2, 3])
    }

    @Test("cancelling a waiting watcher ends its iteration")
    func cancellation() async throws {
        let log = EventLog<Int>()
        let subscription = try log.subscribe(after: 0)
        let task = Task {
            for try await _ in subscription {}
        }
        try await Task.sleep(for: .milliseconds(50))
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
    }
}
