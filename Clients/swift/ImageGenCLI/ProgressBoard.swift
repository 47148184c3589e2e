public import ImageGenWire

/// What a person following a job needs to see, folded from its events: per style
/// completed/total, percent, rate, ETA, failures and keys cooling; the overall message; the
/// final state. Pure state: renderers draw it, tests check it.
public struct ProgressBoard: Sendable {
    /// One style's line.
    public struct StyleLine: Sendable, Equatable {
        public var style: String
        public var total: Int = 0
        public var completed: Int = 0
        public var failed: Int = 0
        public var inFlight: Int = 0
        public var keysTotal: Int = 0
        public var keysCooling: Int = 0
        public var keysDisabled: Int = 0
        /// Beats waiting in Batch API batches.
        public var inBatch: Int = 0
        /// The state of the style's batch wave ("pending", "running", …), while one is out.
        public var batchState: String?
        /// Completed when the job was accepted (resumed beats do not count towards the rate).
        var completedAtStart: Int?
        /// When this style's first new image arrived, in ms since 1970.
        var firstProgressMs: Int64?
        var lastProgressMs: Int64?
        var completedAtFirstProgress: Int = 0

        public init(style: String) { self.style = style }

        /// 0…100.
        public var percent: Double { total == 0 ? 100 : Double(completed) * 100 / Double(total) }

        /// Images per second since this job's first new image.
        public var rate: Double? {
            guard let first = firstProgressMs, let last = lastProgressMs, last > first else { return nil }
            let done = completed - completedAtFirstProgress
            return done > 0 ? Double(done) / (Double(last - first) / 1000) : nil
        }

        /// Seconds left at the current rate.
        public var etaSeconds: Double? {
            guard let rate, rate > 0 else { return nil }
            return Double(max(0, total - completed - failed)) / rate
        }
    }

    public private(set) var jobID = ""
    public private(set) var lastSeq: UInt64 = 0
    public private(set) var styles: [StyleLine] = []
    public private(set) var message = ""
    public private(set) var finished: JobFinished?
    public private(set) var resumed = 0

    public init() {}

    /// Folds one event in. Events with a seq not after `lastSeq` (a replay overlap) are ignored.
    public mutating func apply(_ event: ProgressEvent) {
        guard event.seq == 0 || event.seq > lastSeq else { return }
        lastSeq = max(lastSeq, event.seq)
        if !event.jobID.isEmpty { jobID = event.jobID }
        switch event.kind {
        case .accepted(let accepted):
            resumed = Int(accepted.resumed)
            for progress in accepted.styles { update(progress, at: event.timeUnixMs, initial: true) }
        case .style(let progress):
            update(progress, at: event.timeUnixMs, initial: false)
        case .message(let text):
            message = text
        case .finished(let finished):
            self.finished = finished
            if !finished.message.isEmpty { message = finished.message }
        case .beat(let beat):
            if beat.state == .failed, !beat.error.isEmpty {
                message = "\(beat.style) \(beat.shotID)/\(beat.beatID): \(beat.error)"
            }
        case .key(let key):
            if key.state == .disabled || key.state == .exhausted {
                message = "\(key.keyLabel): \(key.reason)"
            } else if key.state == .cooling {
                message = EventFormatter.quotaLine(key)
            }
        case nil:
            break
        }
    }

    private mutating func update(_ progress: StyleProgress, at timeMs: Int64, initial: Bool) {
        let index: Int
        if let existing = styles.firstIndex(where: { $0.style == progress.style }) {
            index = existing
        } else {
            styles.append(StyleLine(style: progress.style))
            index = styles.count - 1
        }
        var line = styles[index]
        let previous = line.completed
        line.total = Int(progress.total)
        line.completed = Int(progress.completed)
        line.failed = Int(progress.failed)
        line.inFlight = Int(progress.inFlight)
        line.keysTotal = Int(progress.keysTotal)
        line.keysCooling = Int(progress.keysCooling)
        line.keysDisabled = Int(progress.keysDisabled)
        line.inBatch = Int(progress.inBatch)
        line.batchState = progress.batch.map { $0.state.isEmpty ? "pending" : $0.state }
        if initial || line.completedAtStart == nil { line.completedAtStart = line.completedAtStart ?? line.completed }
        if !initial, line.completed > previous {
            if line.firstProgressMs == nil {
                // The rate clock starts at the first new image: count from the one before it.
                line.firstProgressMs = timeMs
                line.completedAtFirstProgress = previous
            }
            line.lastProgressMs = timeMs
        }
        styles[index] = line
    }

    /// True when every style has finished or the job has.
    public var isFinished: Bool { finished != nil }
}
