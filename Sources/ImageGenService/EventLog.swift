import DequeModule
import Synchronization

/// The numbered event history of one job, and its live watchers.
///
/// Events get sequence numbers `firstSeq`, `firstSeq + 1`, … with no gaps (a fresh job's log starts
/// at 1; a job resumed after a server restart starts beyond every seq its earlier runs could have
/// issued, so an `after_seq` of an earlier run is recognised, never mistaken for one of this run's).
/// The log keeps the newest `retention` events for replay; any number of watchers follow it, each
/// with its own bounded buffer, so a slow or stalled watcher never slows the job or other watchers:
/// when its buffer overflows, its stream ends with ``EventLogError/watcherOverflow(resumeAfter:)``
/// and it can reattach.
public final class EventLog<Event: Sendable>: Sendable {
    private struct State {
        var events: Deque<(seq: UInt64, event: Event)> = []
        var lastSeq: UInt64
        var finished = false
        var watchers: [UInt64: Watcher<Event>] = [:]
        var nextWatcherID: UInt64 = 0
    }

    private let state: Mutex<State>
    /// The seq of this log's first event: 1 for a fresh job, higher for a job resumed after a restart.
    public let firstSeq: UInt64
    /// How many of the newest events are kept for replay.
    public let retention: Int
    /// How many undelivered events one watcher may fall behind before it is cut off.
    public let watcherBuffer: Int

    public init(firstSeq: UInt64 = 1, retention: Int = 10_000, watcherBuffer: Int = 1_000) {
        precondition(retention > 0 && watcherBuffer > 0, "retention and watcherBuffer must be positive")
        precondition(firstSeq > 0, "seqs start at 1 or later")
        self.firstSeq = firstSeq
        self.state = Mutex(State(lastSeq: firstSeq - 1))
        self.retention = retention
        self.watcherBuffer = watcherBuffer
    }

    /// The sequence number of the newest event; `firstSeq - 1` before the first.
    public var lastSeq: UInt64 { state.withLock { $0.lastSeq } }

    /// True once `finish()` was called.
    public var isFinished: Bool { state.withLock { $0.finished } }

    /// Numbers, stores and delivers one event. `make` receives the event's sequence number.
    /// Never blocks on watchers. Returns the sequence number, or nil after `finish()`.
    @discardableResult
    public func append(_ make: (UInt64) -> Event) -> UInt64? {
        state.withLock { state -> UInt64? in
            guard !state.finished else { return nil }
            state.lastSeq += 1
            let seq = state.lastSeq
            let event = make(seq)
            state.events.append((seq, event))
            if state.events.count > retention { state.events.removeFirst() }
            var overflowed: [UInt64] = []
            for (id, watcher) in state.watchers where !watcher.deliver(seq: seq, event: event) {
                overflowed.append(id)
            }
            for id in overflowed { state.watchers[id] = nil }
            return seq
        }
    }

    /// Ends the log: watchers receive what is buffered, then their streams end normally.
    public func finish() {
        let watchers = state.withLock { state -> [Watcher<Event>] in
            state.finished = true
            defer { state.watchers = [:] }
            return Array(state.watchers.values)
        }
        for watcher in watchers { watcher.finish() }
    }

    /// Replays the events after `afterSeq`, then follows live ones until the log finishes.
    /// `afterSeq` 0 means from this log's first event. Throws ``EventLogError/tooOld(oldestKept:)``
    /// when events after `afterSeq` are no longer kept, ``EventLogError/earlierRun(firstSeq:)`` when
    /// `afterSeq` belongs to an earlier run of the job (0 < afterSeq < firstSeq - 1), and
    /// ``EventLogError/inFuture(lastSeq:)`` when `afterSeq` is beyond the newest event.
    public func subscribe(after afterSeq: UInt64) throws(EventLogError) -> EventSubscription<Event> {
        let firstSeq = self.firstSeq
        let result: Result<Watcher<Event>, EventLogError> = state.withLock { state in
            if afterSeq > state.lastSeq { return .failure(.inFuture(lastSeq: state.lastSeq)) }
            if afterSeq > 0 && afterSeq < firstSeq - 1 { return .failure(.earlierRun(firstSeq: firstSeq)) }
            let start = max(afterSeq, firstSeq - 1)
            let oldest = state.events.first?.seq ?? state.lastSeq + 1
            if start + 1 < oldest { return .failure(.tooOld(oldestKept: oldest)) }
            let backlog = state.events.filter { $0.seq > start }
            // A watcher needs room for its replay as well as its live buffer.
            let watcher = Watcher<Event>(capacity: watcherBuffer + backlog.count, lastDelivered: start)
            for entry in backlog { _ = watcher.deliver(seq: entry.seq, event: entry.event) }
            if state.finished {
                watcher.finish()
            } else {
                state.nextWatcherID += 1
                state.watchers[state.nextWatcherID] = watcher
            }
            return .success(watcher)
        }
        return EventSubscription(watcher: try result.get())
    }

    /// Watchers attached now (for status and tests).
    public var watcherCount: Int { state.withLock { $0.watchers.count } }
}

/// Why a subscription could not start, or ended early.
public enum EventLogError: Error, Sendable, Equatable {
    /// Events after the requested seq are gone; `oldestKept` is the oldest still kept.
    case tooOld(oldestKept: UInt64)
    /// The requested seq is beyond the newest event.
    case inFuture(lastSeq: UInt64)
    /// The requested seq belongs to an earlier run of the job (before a server restart): those
    /// events were not kept. This run's events start at `firstSeq`.
    case earlierRun(firstSeq: UInt64)
    /// The watcher fell too far behind; reattach with `after_seq = resumeAfter`.
    case watcherOverflow(resumeAfter: UInt64)
}

/// The events one watcher receives, in order, as an async sequence of (seq, event).
public struct EventSubscription<Event: Sendable>: AsyncSequence, Sendable {
    public typealias Element = (seq: UInt64, event: Event)
    let watcher: Watcher<Event>

    public func makeAsyncIterator() -> Iterator { Iterator(watcher: watcher) }

    /// Suspends until the next event, the end of the log, or an overflow.
    public struct Iterator: AsyncIteratorProtocol {
        let watcher: Watcher<Event>
        public mutating func next() async throws -> Element? { try await watcher.next(upTo: 1)?.first }
    }

    /// Suspends until at least one event is queued, then returns every queued event (at most
    /// `limit`), so a watcher that fell behind catches up in few writes; nil at the end of the log.
    public func next(upTo limit: Int) async throws -> [Element]? { try await watcher.next(upTo: limit) }
}

/// One watcher's bounded queue between the log (producer) and its consumer.
final class Watcher<Event: Sendable>: Sendable {
    private struct State {
        var queue: Deque<(seq: UInt64, event: Event)> = []
        var lastDelivered: UInt64
        var finished = false
        var overflow: UInt64?
        /// The consumer, while it waits in ``next(upTo:)``.
        var waiters = WaiterList()
    }

    private enum Step { case elements([(seq: UInt64, event: Event)]), end, overflow(UInt64), wait }

    private let capacity: Int
    private let state: Mutex<State>

    init(capacity: Int, lastDelivered: UInt64) {
        self.capacity = capacity
        self.state = Mutex(State(lastDelivered: lastDelivered))
    }

    /// Queues an event; false when the queue is full (the watcher is then cut off).
    func deliver(seq: UInt64, event: Event) -> Bool {
        let (accepted, wakeUps) = state.withLock { state -> (Bool, WakeUps) in
            guard state.overflow == nil, !state.finished else { return (false, .none) }
            if state.queue.count >= capacity {
                state.overflow = state.lastDelivered
                state.queue.removeAll()
            } else {
                state.queue.append((seq, event))
            }
            return (state.overflow == nil, state.waiters.takeAll())
        }
        wakeUps.resume()
        return accepted
    }

    func finish() {
        state.withLock { state in
            state.finished = true
            return state.waiters.takeAll()
        }.resume()
    }

    /// The next queued events, at most `limit` (at least 1); waits when none is queued; nil at the end.
    func next(upTo limit: Int) async throws -> [(seq: UInt64, event: Event)]? {
        while true {
            let step = state.withLock { state -> Step in
                if let resume = state.overflow { return .overflow(resume) }
                if !state.queue.isEmpty {
                    let count = min(max(1, limit), state.queue.count)
                    let elements = Array(state.queue.prefix(count))
                    state.queue.removeFirst(count)
                    state.lastDelivered = elements[count - 1].seq
                    return .elements(elements)
                }
                return state.finished ? .end : .wait
            }
            switch step {
            case .elements(let elements): return elements
            case .end: return nil
            case .overflow(let resume): throw EventLogError.watcherOverflow(resumeAfter: resume)
            case .wait:
                try Task.checkCancellation()
                await state.wait(on: \.waiters) { $0.overflow != nil || !$0.queue.isEmpty || $0.finished }
            }
        }
    }
}
