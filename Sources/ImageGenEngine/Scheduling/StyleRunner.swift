import Foundation
import Logging

/// Renders one style of one job: plans which beats need work, then dispatches them over the
/// style's keys at each quota's pace (``QuotaID``: project and model), retrying, cooling and disabling keys as failures say.
/// All decisions are made in one loop (``run()``) over a ``RunState``; each request runs in a
/// child task of it (``attempt(_:slot:key:gate:counters:predecessorFile:plan:store:io:)``), and
/// what a failure means for its beat is a ``RetryDecision``.
struct StyleRunner: Sendable {
    typealias Instant = ContinuousClock.Instant

    let style: StyleConfiguration
    let provider: any ImageProvider
    let project: ProjectDirectory
    let storyboard: ValidatedStoryboard
    let force: Bool
    let configuration: EngineConfiguration
    let control: JobControl
    let logger: Logger
    /// The job's delivery for every style; nil keeps the style's.
    var delivery: Delivery? = nil
    /// The job's batch deadline (from its start); nil keeps the style's.
    var batchDeadline: Duration? = nil
    /// The time batch deadlines are measured in.
    var wallClock: @Sendable () -> Date = { Date() }

    /// Seconds since 1970 by ``wallClock``.
    var wallSeconds: Double { wallClock().timeIntervalSince1970 }

    var isOffline: Bool { style.keys.isEmpty }

    private var effectiveKeys: [APIKey] {
        isOffline ? [APIKey(secret: "", project: "offline", label: "\(style.name)#offline")] : style.keys
    }

    func run() async -> StyleReport {
        let started = ContinuousClock.now
        // Cancelled before it began: nothing to open, plan or record.
        if Task.isCancelled {
            control.emit(.message(style: style.name, text: "style \(style.name): cancelled before it started"))
            return summary(.cancelled, started: started)
        }
        var state: RunState
        switch await prepare() {
        case .success(let prepared): state = prepared
        case .failure(let failure):
            return summary(.failed, started: started, failed: storyboard.beatCount, error: failure.message)
        }
        let restored = await restoreBatches(&state)
        queuePlannedBeats(&state)
        await failUnreachable(restored, state: &state)
        publish(state)
        await withTaskGroup(of: Completion.self) { group in
            while true {
                let now = ContinuousClock.now
                adoptSharedKeyState(&state.pool, now: now)
                // Every key set aside by what another style or job found: fail, as a 429 here would.
                failIfNoUsableKey(&state)
                state.promoteDueRetries(now: now)
                if Task.isCancelled { state.cancelled = true }
                adoptOnlineSwitch(&state)
                await formWave(&state)
                launchBatchSteps(&state, into: &group)
                let hold = dispatch(&state, into: &group)
                if state.isFinished { break }
                if let wake = state.armTimer(at: state.wakeTime(hold: hold, now: now)) {
                    group.addTask {
                        try? await Task.sleep(until: wake, clock: .continuous)
                        return .tick
                    }
                }
                guard let completion = await group.next() else { break }
                switch completion {
                case .tick: state.timerFired()
                case .attempt(let outcome): await complete(outcome, state: &state)
                case .batch(let outcome):
                    await completeBatch(outcome, state: &state)
                    failIfNoUsableKey(&state)
                    publish(state)
                }
            }
            group.cancelAll()
        }
        let outcome = finish(&state)
        publish(state)
        do { try await state.store.close() } catch {
            logger.error("cannot compact progress", metadata: ["style": "\(style.name)", "error": "\(error)"])
        }
        return summary(
            outcome, started: started, spend: state.spend, done: state.done, failed: state.failed,
            skipped: state.skipped, error: state.styleError)
    }

    /// Why a style could not start: its progress store cannot be opened, or its plan cannot be made.
    struct PrepareFailure: Error {
        let message: String
    }

    /// Opens the progress store, plans, and builds the key pool.
    private func prepare() async -> Result<RunState, PrepareFailure> {
        let jobStart = wallClock()
        let store: ProgressStore
        do {
            store = try await ProgressStore.open(
                directory: project, style: style.name, durability: configuration.durability,
                compactionLines: configuration.journalCompactionLines)
        } catch {
            let message = "style \(style.name): \(error.description)"
            control.emit(.message(style: style.name, text: message))
            logger.error("style failed", metadata: ["style": "\(style.name)", "error": "\(error.description)"])
            return .failure(PrepareFailure(message: message))
        }
        let io = BlockingIO(label: "imagegen.images.\(style.name)")
        let plan: Plan
        do {
            plan = try await io.run { [self] in try self.makePlan(store: store) }
        } catch {
            let message = "style \(style.name): cannot plan: \(error)"
            control.emit(.message(style: style.name, text: message))
            try? await store.close()
            return .failure(PrepareFailure(message: message))
        }
        let lane: BatchLane?
        switch await openBatchLane(jobStart: jobStart) {
        case .success(let opened): lane = opened
        case .failure(let failure):
            try? await store.close()
            return .failure(failure)
        }
        let now = ContinuousClock.now
        let pool = KeyPool(
            keys: effectiveKeys, model: style.model, requestsPerMinute: isOffline ? 0 : style.requestsPerMinute,
            maxInFlightPerProject: isOffline ? configuration.offline.concurrency : style.maxInFlightPerProject,
            now: now, verified: isOffline,
            gate: isOffline ? nil : { [control, style, configuration] quota in
                control.gate(quota: quota, configured: configuration.pace(of: quota, style: style))
            })
        return .success(RunState(plan: plan, store: store, io: io, pool: pool, lane: lane, now: now))
    }

    private func summary(
        _ state: JobOutcome, started: Instant, spend: SpendCounters = SpendCounters(), done: Int = 0, failed: Int = 0,
        skipped: Int = 0, error: String? = nil
    ) -> StyleReport {
        StyleReport(
            style: style.name, provider: provider.name, state: state, total: storyboard.beatCount, done: done,
            failed: failed, skipped: skipped, duration: ContinuousClock.now - started, spend: spend, error: error)
    }

    /// Adopts what other styles and jobs found about shared quotas (same project and model:
    /// cool-downs, spent daily quotas), and ends the cool-downs that are over.
    private func adoptSharedKeyState(_ pool: inout KeyPool, now: Instant) {
        for (key, delay) in pool.adoptCoolings(control.coolings(now: now, notFoundBy: style.name), now: now) {
            let quota = QuotaID(project: key.project, model: style.model)
            keyEvent(key, .cooling, duration: delay, reason: "rate limited: \(quota) cooling (a 429 in another style or job)")
        }
        for (key, reason) in pool.adoptSpentDailyQuotas(control.spentDailyQuotas()) {
            keyEvent(key, .exhausted, reason: "\(reason) (found by another style or job; resets at midnight Pacific time)")
        }
        for key in pool.endCoolings(now: now) { keyEvent(key, .ready, reason: "cool-down over") }
    }

    /// Sends the ready beats while the job's cap and the pool allow; says what held the rest back.
    private func dispatch(_ state: inout RunState, into group: inout TaskGroup<Completion>) -> Hold {
        guard !state.stopping else { return .none }
        guard !control.isPaused else { return .paused }
        var hold = Hold.none
        var dispatched = false
        while let index = state.ready.first {
            guard control.tryAcquireSlot() else {
                hold = .jobCap
                break
            }
            guard let slot = state.pool.acquire(now: ContinuousClock.now) else {
                control.releaseSlot()
                break
            }
            state.ready.removeFirst()
            dispatched = true
            launch(index, slot: slot, state: &state, into: &group)
        }
        // Completions publish anyway; on dispatch, publish at most every `Polling.publishOnDispatch`.
        let now = ContinuousClock.now
        if dispatched && now - state.lastDispatchPublish >= Polling.publishOnDispatch {
            state.lastDispatchPublish = now
            publish(state)
        }
        return hold
    }

    /// Starts one request of the beat at `index` on the key in `slot`.
    private func launch(_ index: Int, slot: Int, state: inout RunState, into group: inout TaskGroup<Completion>) {
        state.inFlight += 1
        state.counters[index].requests += 1
        state.spend.requests += 1
        let key = state.pool.slots[slot].key
        let beat = state.beats[index]
        let snapshot = state.counters[index]
        let gate = state.pool.gate(slot)
        let predecessorFile = beat.predecessor.flatMap { state.files[$0] }
        let (plan, store, io) = (state.plan, state.store, state.io)
        event(beat, .generating, attempt: snapshot.requests, key: key.label, path: beat.relativeStem + ".png")
        group.addTask {
            .attempt(await self.attempt(beat, slot: slot, key: key, gate: gate, counters: snapshot,
                                        predecessorFile: predecessorFile, plan: plan, store: store, io: io))
        }
    }

    /// How the style ended; when it failed, every beat not finished fails with its reason (not
    /// recorded: a rerun retries it).
    private func finish(_ state: inout RunState) -> JobOutcome {
        if state.cancelled {
            let finished = state.done + state.skipped
            control.emit(.message(style: style.name, text: "style \(style.name): cancelled; \(finished) of \(storyboard.beatCount) done"))
            return .cancelled
        }
        guard let styleError = state.styleError else { return state.failed == 0 ? .completed : .completedWithErrors }
        for index in state.takeUnfinished() {
            state.failed += 1
            event(state.beats[index], .failed, attempt: state.counters[index].requests, error: styleError)
        }
        control.emit(.message(style: style.name, text: styleError))
        logger.error("style failed", metadata: ["style": "\(style.name)", "error": "\(styleError)"])
        return .failed
    }
}
