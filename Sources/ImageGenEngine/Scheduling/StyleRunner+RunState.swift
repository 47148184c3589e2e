internal import DequeModule

extension StyleRunner {
    /// How often the loop looks again when nothing it waits for has a time of its own.
    enum Polling {
        /// While the job is paused.
        static let paused: Duration = .milliseconds(50)
        /// While the job's cap on requests in flight (all styles) is reached.
        static let jobCap: Duration = .milliseconds(10)
        /// At most one progress update per this interval on dispatch (every completion publishes).
        static let publishOnDispatch: Duration = .milliseconds(50)
    }

    /// Why the loop dispatched nothing more this turn although beats are ready.
    enum Hold {
        case none
        case paused
        case jobCap
    }

    /// Everything the style's loop decides on: the plan, the key pool, the queues and the counts.
    /// Owned by ``StyleRunner/run()`` alone; each request's child task gets a copy of what it needs.
    struct RunState {
        let plan: Plan
        let store: ProgressStore
        let io: BlockingIO
        var pool: KeyPool
        var counters: [BeatCounters]
        /// The image of each beat known to be done (skipped or generated in this job), relative to the project.
        var files: [String?]
        /// Beats to send online, in order.
        var ready = Deque<Int>()
        /// The Batch API lane, when the provider has one (nil: everything goes online).
        let lane: BatchLane?
        /// Whether ready beats go to batch waves (`batch`, or `auto` while the deadline allows).
        var sendsToBatch: Bool
        /// Beats ready for the next wave (sent once no batch of the style is out).
        var waveReady: [Int] = []
        /// The style's batches out at Gemini.
        var batches: [BatchRun] = []
        /// Beats that go online whatever the delivery (a batch refused them, or they are retried).
        var onlineOnly: Set<Int> = []
        /// Beats an earlier run's batch holds (by plan index): its display name.
        var claimed: [Int: String] = [:]
        /// The last wave sent.
        var wave = 0
        /// The size of each beat's image known to be done.
        var fileBytes: [Int?]
        /// Beats waiting out a backoff.
        var delayed: [(index: Int, at: Instant)] = []
        /// The beats waiting on each beat's image (continuity), by the predecessor's index.
        var dependents: [Int: [Int]] = [:]
        var skipped = 0
        var done = 0
        var failed = 0
        var inFlight = 0
        var spend = SpendCounters()
        /// Set when the whole style fails: nothing more is dispatched.
        var styleError: String?
        var cancelled = false
        /// The wake-up times of the timer tasks running.
        var sleepers: [Instant] = []
        var lastDispatchPublish: Instant

        init(plan: Plan, store: ProgressStore, io: BlockingIO, pool: KeyPool, lane: BatchLane?, now: Instant) {
            self.plan = plan
            self.lane = lane
            self.sendsToBatch = lane.map { $0.delivery != .online } ?? false
            self.store = store
            self.io = io
            self.pool = pool
            counters = Array(repeating: BeatCounters(), count: plan.beats.count)
            files = Array(repeating: nil, count: plan.beats.count)
            fileBytes = Array(repeating: nil, count: plan.beats.count)
            lastDispatchPublish = now - .seconds(1)
        }

        var beats: [PlannedBeat] { plan.beats }

        /// Cancelled, or the style failed: dispatch nothing more, wait for what is in flight.
        var stopping: Bool { cancelled || styleError != nil }

        /// Nothing in flight, and nothing more to do.
        var isFinished: Bool {
            inFlight == 0 && (stopping || (ready.isEmpty && delayed.isEmpty && waveReady.isEmpty && batches.isEmpty))
        }

        /// Queues a beat whose inputs are ready: for the next wave when it goes to batch, else online.
        mutating func route(_ index: Int, front: Bool) {
            if sendsToBatch && !onlineOnly.contains(index) {
                waveReady.append(index)
            } else if front {
                ready.prepend(index)
            } else {
                ready.append(index)
            }
        }

        /// Counts one request of the beat at `index` that may have been billed at `price`.
        mutating func charge(_ index: Int, _ price: Double, wasted: Bool) {
            counters[index].bill(price)
            spend.bill(price, wasted: wasted)
        }

        /// Beats in the style's batches.
        var inBatch: Int { batches.reduce(0) { $0 + $1.members.count } }

        /// Moves the beats whose backoff is over to the front of the queue, in the order they were delayed.
        mutating func promoteDueRetries(now: Instant) {
            guard !delayed.isEmpty else { return }
            let due = delayed.filter { $0.at <= now }.map(\.index)
            guard !due.isEmpty else { return }
            delayed.removeAll { $0.at <= now }
            for index in due.reversed() { ready.prepend(index) }
        }

        /// Takes every beat not finished (queued, delayed or waiting on a predecessor), in plan order.
        mutating func takeUnfinished() -> [Int] {
            let unfinished = Array(ready) + delayed.map(\.index) + dependents.values.flatMap { $0 } + waveReady
                + batches.flatMap { $0.members.map(\.index) }
            ready.removeAll()
            delayed.removeAll()
            waveReady.removeAll()
            batches.removeAll()
            dependents = [:]
            return unfinished.sorted()
        }

        /// When the loop must wake if no request finishes first; nil when only a completion can help.
        func wakeTime(hold: Hold, now: Instant) -> Instant? {
            guard !stopping else { return nil }
            var times = [delayed.map(\.at).min(), pool.nextCoolingEnd()]
            switch hold {
            case .paused: times.append(now + Polling.paused)
            case .jobCap: times.append(now + Polling.jobCap)
            case .none: if !ready.isEmpty { times.append(pool.nextReadyTime(now: now)) }
            }
            return times.compactMap { $0 }.min()
        }

        /// Records a timer at `wake` unless one runs already that wakes no later; returns the time the
        /// caller must start a timer for, nil when none is needed.
        mutating func armTimer(at wake: Instant?) -> Instant? {
            guard let wake, sleepers.allSatisfy({ wake < $0 }) else { return nil }
            sleepers.append(wake)
            return wake
        }

        /// Forgets the earliest timer (it fired).
        mutating func timerFired() {
            if let first = sleepers.indices.min(by: { sleepers[$0] < sleepers[$1] }) { sleepers.remove(at: first) }
        }
    }
}
