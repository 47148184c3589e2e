import Foundation
internal import Synchronization

/// State shared by a job's style runners: the event stream, pause flag and the job-wide cap on
/// requests in flight; and, through it, the engine-wide state of each
/// project's quota (pace gates, cool-downs, spent daily quotas).
final class JobControl: Sendable {
    private let continuation: AsyncStream<EngineEvent>.Continuation
    private let state: Mutex<Shared>
    private let gates: PaceGates
    private let quotas: ProjectQuotaBook

    struct Shared {
        var paused = false
        var inFlight = 0
        var maxInFlight: Int?
    }

    init(
        continuation: AsyncStream<EngineEvent>.Continuation, maxInFlight: Int?, gates: PaceGates, quotas: ProjectQuotaBook
    ) {
        self.continuation = continuation
        self.gates = gates
        self.quotas = quotas
        self.state = Mutex(Shared(maxInFlight: maxInFlight))
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

    func publish(_ progress: StyleCounters) {
        continuation.yield(.progress(progress))
    }

    /// Records that `project` is cooling until `until` (a 429 in any style), for every style's pool
    /// in every job of the engine.
    func coolProject(_ project: String, until: ContinuousClock.Instant) {
        quotas.cool(project, until: until)
    }

    /// Whether `project` is cooling now (a 429 in any style or job of the engine).
    func isCooling(_ project: String, now: ContinuousClock.Instant) -> Bool {
        quotas.coolings(now: now)[project] != nil
    }

    /// The engine-wide project cool-downs still running.
    func projectCoolings(now: ContinuousClock.Instant) -> [String: ContinuousClock.Instant] {
        quotas.coolings(now: now)
    }

    /// Records that `project`'s daily quota is spent (until midnight Pacific time), for every style
    /// and job of the engine.
    func markDailyQuotaSpent(_ project: String, reason: String) {
        quotas.markDailyQuotaSpent(project, reason: reason, now: Date())
    }

    /// The projects whose daily quota is known to be spent today, with the reason.
    func spentDailyQuotas() -> [String: String] {
        quotas.spentDailyQuotas(now: Date())
    }
}
