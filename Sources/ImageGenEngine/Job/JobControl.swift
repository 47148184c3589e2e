import Foundation
internal import Synchronization

/// State shared by a job's style runners: the event stream, pause flag and the job-wide cap on
/// requests in flight; and, through it, the engine-wide state of each quota (``QuotaID``: project
/// and model): pace gates, cool-downs, spent daily quotas.
final class JobControl: Sendable {
    private let continuation: AsyncStream<EngineEvent>.Continuation
    private let state: Mutex<Shared>
    private let gates: PaceGates
    private let quotas: QuotaBook
    /// Shares each quota with the other servers that spend it; nil: this engine is alone.
    let coordinator: (any QuotaCoordinator)?
    private let coordination = Mutex<CoordinationState>(.reachable)
    /// Tells this job's cool-downs from those of the engine's other jobs (past ones too).
    private let id = UUID()

    struct Shared {
        var paused = false
        /// Set once the job was switched to online delivery: no new batch is sent, those out are cancelled.
        var online = false
        var inFlight = 0
        var maxInFlight: Int?
    }

    /// Whether the coordinator answered the last time it was asked (reported once per change).
    enum CoordinationState {
        case reachable
        case unreachable(since: ContinuousClock.Instant)
    }

    init(
        continuation: AsyncStream<EngineEvent>.Continuation, maxInFlight: Int?, gates: PaceGates, quotas: QuotaBook,
        coordinator: (any QuotaCoordinator)? = nil
    ) {
        self.continuation = continuation
        self.coordinator = coordinator
        self.gates = gates
        self.quotas = quotas
        self.state = Mutex(Shared(maxInFlight: maxInFlight))
    }

    /// The pace gate of a quota (project and model), shared by every style of every job of the
    /// engine that spends it: a quota is one, whichever style or job spends it.
    func gate(quota: QuotaID, configured: Double?) -> PaceGate {
        gates.gate(quota: quota, configured: configured)
    }

    /// Keeps what a 429 taught `quota`'s pace (a stated limit, the engine's pushback) in the
    /// learned limits, and writes them to the state directory (off the cooperative pool) when
    /// that changed them. A limit of a stand-in project (a key without its project) is not kept.
    func keep(_ change: PaceChange, of quota: QuotaID, io: BlockingIO) async throws {
        let learned = gates.learned
        let changed = switch change {
        case .learned(let limit, _): !quota.hasImplicitProject && learned.record(quota, perMinute: limit, now: Date())
        case .pushedBack(let percent): learned.recordPushback(percent)
        case .halved: false
        }
        guard changed else { return }
        try await io.run { try learned.persist() }
    }

    /// Tells the other servers (through the coordinator, if any) the limit a 429 stated for
    /// `quota`; a stand-in project's is not told. An unreachable coordinator is noted.
    func share(learnedLimit limit: Double, of quota: QuotaID) async {
        guard let coordinator, !quota.hasImplicitProject else { return }
        do {
            try await coordinator.learn(quota, perMinute: limit)
        } catch {
            noteCoordination(failure: error)
        }
    }

    func emit(_ event: EngineEvent) {
        continuation.yield(event)
    }

    func finishEvents() {
        continuation.finish()
    }

    var isPaused: Bool { state.withLock { $0.paused } }

    /// Whether the job was switched to online delivery (``goOnline()``).
    var isSwitchedOnline: Bool { state.withLock { $0.online } }

    func goOnline() {
        state.withLock { $0.online = true }
    }

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

    /// Records that `quota` is cooling until `until` (a 429 in `style`), for every style's pool
    /// in every job of the engine that spends it.
    func cool(_ quota: QuotaID, until: ContinuousClock.Instant, foundBy style: String) {
        quotas.cool(quota, until: until, by: source(style))
    }

    /// Whether `quota` is cooling now (a 429 in any style or job of the engine).
    func isCooling(_ quota: QuotaID, now: ContinuousClock.Instant) -> Bool {
        quotas.coolings(now: now)[quota] != nil
    }

    /// The engine-wide cool-downs still running, by quota, that another style or job than `style`
    /// of this job found last (a style's own 429s cool its pool as it handles them).
    func coolings(now: ContinuousClock.Instant, notFoundBy style: String) -> [QuotaID: ContinuousClock.Instant] {
        quotas.coolings(now: now, excluding: source(style))
    }

    private func source(_ style: String) -> QuotaBook.CoolingSource {
        QuotaBook.CoolingSource(job: id, style: style)
    }

    /// Records that `quota`'s daily quota is spent (until midnight Pacific time), for every style
    /// and job of the engine.
    func markDailyQuotaSpent(_ quota: QuotaID, reason: String) {
        quotas.markDailyQuotaSpent(quota, reason: reason, now: Date())
    }

    /// Records a cool-down another server found (through the coordinator): every style's pool in
    /// every job of the engine adopts it, the one that asked included.
    func adoptCoolDown(_ quota: QuotaID, for delay: Duration) {
        quotas.cool(quota, until: ContinuousClock.now + delay, by: nil)
    }

    /// Records a daily quota another server found spent (through the coordinator), until `until`.
    func adoptDailyQuotaSpent(_ quota: QuotaID, until: Date, reason: String) {
        quotas.markDailyQuotaSpent(quota, reason: reason, until: until)
    }

    /// Notes whether the coordinator answered: the first failure after an answer, and the first
    /// answer after a failure, are told as a message event (with how long requests were held).
    func noteCoordination(failure: CoordinationUnavailable?) {
        let now = ContinuousClock.now
        let text: String? = coordination.withLock { state in
            switch (state, failure) {
            case (.reachable, let failure?):
                state = .unreachable(since: now)
                return "\(failure); no request starts until it answers again (requests in flight finish)"
            case (.unreachable(let since), nil):
                state = .reachable
                return "coordination is back after \(String(format: "%.1f", (now - since).seconds)) s; requests start again"
            case (.reachable, nil), (.unreachable, _?):
                return nil
            }
        }
        if let text { emit(.message(style: nil, text: text)) }
    }

    /// The quotas whose daily quota is known to be spent today, with the reason.
    func spentDailyQuotas() -> [QuotaID: String] {
        quotas.spentDailyQuotas(now: Date())
    }
}
