import DequeModule

/// One (project, model)'s limiter state, one case per `FakeGeminiLimiter` shape.
enum FakeGeminiQuotaState: Sendable {
    /// Admission times still inside the sliding window, oldest first.
    case sliding(Deque<ContinuousClock.Instant>)
    /// The current fixed window's index since the origin and the requests it admitted.
    case fixed(window: Int64, count: Int)
    /// The bucket as GCRA: the theoretical arrival time of the next request at the refill rate.
    case bucket(theoreticalArrival: ContinuousClock.Instant)

    /// A fresh state for `limiter` at `now`.
    static func initial(for limiter: FakeGeminiLimiter, now: ContinuousClock.Instant) -> FakeGeminiQuotaState {
        switch limiter {
        case .slidingWindow: .sliding([])
        case .fixedWindow: .fixed(window: -1, count: 0)
        case .tokenBucket: .bucket(theoreticalArrival: now)
        }
    }

    /// Counts a request arriving at `now` and returns nil, or refuses it and returns how long
    /// until the limiter admits again (rounded up to the nanosecond). `origin` starts the fixed windows.
    mutating func admit(
        _ limiter: FakeGeminiLimiter, now: ContinuousClock.Instant, origin: ContinuousClock.Instant
    ) -> Duration? {
        switch limiter {
        case .slidingWindow(let requests, let window):
            var recent: Deque<ContinuousClock.Instant> = if case .sliding(let kept) = self { kept } else { [] }
            while let first = recent.first, now - first >= window { recent.removeFirst() }
            defer { self = .sliding(recent) }
            if recent.count >= requests, let oldest = recent.first { return Self.roundedUp(oldest + window - now) }
            recent.append(now)
            return nil
        case .fixedWindow(let requests, let window):
            let windowNanoseconds = max(Self.nanoseconds(window), 1)
            let index = Self.nanoseconds(now - origin) / windowNanoseconds
            var admitted = 0
            if case .fixed(index, let count) = self { admitted = count }
            if admitted >= requests {
                self = .fixed(window: index, count: admitted)
                return Self.roundedUp(origin + .nanoseconds((index + 1) * windowNanoseconds) - now)
            }
            self = .fixed(window: index, count: admitted + 1)
            return nil
        case .tokenBucket(let burst, let perMinute):
            let arrival = if case .bucket(let kept) = self { kept } else { now }
            let interval = Duration.nanoseconds(Int64((60e9 / perMinute).rounded()))
            let tolerance = interval * (burst - 1)
            if arrival - tolerance > now { return Self.roundedUp(arrival - tolerance - now) }
            self = .bucket(theoreticalArrival: max(arrival, now) + interval)
            return nil
        }
    }

    /// Whole nanoseconds in `duration`, rounded down.
    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    /// `duration` rounded up to a whole nanosecond, at least one: a retry delay written in
    /// nanoseconds must never be short.
    static func roundedUp(_ duration: Duration) -> Duration {
        let (seconds, attoseconds) = duration.components
        let extra: Int64 = attoseconds % 1_000_000_000 > 0 ? 1 : 0
        return max(.nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000 + extra), .nanoseconds(1))
    }
}
