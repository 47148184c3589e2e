internal import Synchronization

/// State shared by a job's style runners: the event stream, pause flag, the job-wide cap on
/// requests in flight, and the status snapshot.
final class JobControl: Sendable {
    private let continuation: AsyncStream<EngineEvent>.Continuation
    private let state: Mutex<Shared>
    private let gates: PaceGates

    struct Shared {
        var paused = false
        var inFlight = 0
        var maxInFlight: Int?
        var jobState = JobState.running
        var progress: [StyleProgress]
        /// Rate-limit cool-downs by project name, shared by every style of the job (a quota is per project).
        var projectCoolUntil: [String: ContinuousClock.Instant] = [:]
    }

    init(continuation: AsyncStream<EngineEvent>.Continuation, styles: [String], maxInFlight: Int?, gates: PaceGates) {
        self.continuation = continuation
        self.gates = gates
        self.state = Mutex(Shared(maxInFlight: maxInFlight, progress: styles.map { StyleProgress(style: $0) }))
    }

    /// The pace gate of a Google Cloud project, shared by every style of every job of the engine
    /// that names it: a project's quota is one, whichever style or job spends it.
    func gate(project: String, spacing: Duration) -> PaceGate {
        gates.gate(project: project, spacing: spacing)
    }

    func emit(_ event: EngineEvent) {
        continuation.yield(event)
    }

    func finishEvents() {
        continuation.finish()
    }

    var isPaused: Bool { state.withLock { $0.paused } }

    func setPaused(_ paused: Bool) {
        state.withLock { $0.paused = paused }
    }

    /// Takes one job-wide request slot, if the cap allows.
    func tryAcquireSlot() -> Bool {
        state.withLock { shared in
            if let cap = shared.maxInFlight, shared.inFlight >= cap { return false }
            shared.inFlight += 1
            return true
        }
    }

    func releaseSlot() {
        state.withLock { $0.inFlight -= 1 }
    }

    func publish(_ progress: StyleProgress) {
        state.withLock { shared in
            if let index = shared.progress.firstIndex(where: { $0.style == progress.style }) {
                shared.progress[index] = progress
            }
        }
        continuation.yield(.progress(progress))
    }

    /// Records that `project` is cooling until `until` (a 429 in any style), for every style's pool.
    func coolProject(_ project: String, until: ContinuousClock.Instant) {
        state.withLock { shared in
            shared.projectCoolUntil[project] = max(shared.projectCoolUntil[project] ?? until, until)
        }
    }

    /// The job-wide project cool-downs.
    func projectCoolings() -> [String: ContinuousClock.Instant] {
        state.withLock { $0.projectCoolUntil }
    }

    func setJobState(_ jobState: JobState) {
        state.withLock { $0.jobState = jobState }
    }

    func status() -> JobStatus {
        state.withLock { JobStatus(state: $0.jobState, paused: $0.paused, styles: $0.progress) }
    }
}
