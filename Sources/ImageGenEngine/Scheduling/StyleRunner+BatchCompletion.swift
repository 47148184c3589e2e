import Foundation

extension StyleRunner {
    /// Starts the next call of every batch that has none running: create, find, poll or cancel.
    func launchBatchSteps(_ state: inout RunState, into group: inout TaskGroup<Completion>) {
        guard let lane = state.lane, !state.stopping else { return }
        let now = wallSeconds
        for position in state.batches.indices where !state.batches[position].busy {
            let run = state.batches[position]
            let (call, delay) = nextCall(of: run, cancelWanted: !state.sendsToBatch, now: now)
            state.batches[position].busy = true
            var predecessorFiles: [Int: String] = [:]
            var counters: [Int: BeatCounters] = [:]
            for member in run.members {
                counters[member.index] = state.counters[member.index]
                if let predecessor = state.beats[member.index].predecessor, let file = state.files[predecessor] {
                    predecessorFiles[member.index] = file
                }
            }
            let context = BatchStepContext(
                provider: lane.provider, ledger: lane.ledger, gate: batchGate(for: run.key), plan: state.plan,
                store: state.store, io: state.io, predecessorFiles: predecessorFiles, counters: counters)
            group.addTask { .batch(await self.batchStep(call, of: run, after: delay, context: context)) }
        }
    }

    /// What to ask of `run` next, and after how long: a poll waits its backoff (never past the
    /// deadline); past the deadline, or once the job switched to online, the batch is cancelled.
    private func nextCall(of run: BatchRun, cancelWanted: Bool, now: Double) -> (BatchCall, Duration) {
        let backoff = run.retryDelay ?? .zero
        switch run.phase {
        case .creating: return (.create, backoff)
        case .finding: return (.find, backoff)
        case .polling(_, let cancelRequested):
            if !cancelRequested && (now >= run.entry.deadline || cancelWanted) { return (.cancel, backoff) }
            if run.retryDelay != nil { return (.poll, backoff) }
            if cancelRequested { return (.poll, run.pollDelay) }
            let untilDeadline = Duration.milliseconds(Int64(max(0, run.entry.deadline - now) * 1000))
            return (.poll, min(run.pollDelay, untilDeadline))
        }
    }

    /// Takes in a batch's finished call.
    func completeBatch(_ outcome: BatchStepOutcome, state: inout RunState) async {
        guard let position = state.batches.firstIndex(where: { $0.displayName == outcome.displayName }),
            let lane = state.lane
        else { return }
        state.batches[position].busy = false
        let settings = lane.settings
        switch outcome.result {
        case .created(let snapshot), .found(let snapshot?):
            adopt(snapshot, at: position, settings: settings, state: &state)
        case .found(nil):
            await notFound(at: position, lane: lane, state: &state)
        case .polled(let snapshot):
            state.batches[position].state = snapshot.state
            state.batches[position].stats = snapshot.stats
            let doubled = max(state.batches[position].pollDelay * 2, settings.pollInitial)
            state.batches[position].pollDelay = min(doubled, settings.pollMax)
            state.batches[position].answered()
        case .cancelSent:
            let run = state.batches[position]
            if case .polling(let name, _) = run.phase { state.batches[position].phase = .polling(name: name, cancelRequested: true) }
            state.batches[position].pollDelay = settings.pollInitial
            state.batches[position].answered()
            let why = wallSeconds >= run.entry.deadline ? "past its deadline" : "the job switched to online delivery"
            control.emit(.message(
                style: style.name, text: "style \(style.name): batch \(run.displayName) \(why): cancelled; what it did not process goes online"))
        case .ended(let snapshot, let results):
            await end(at: position, snapshot: snapshot, results: results, lane: lane, state: &state)
        case .gone:
            let run = state.batches.remove(at: position)
            let reason = "batch \(run.displayName) (\(run.name ?? "never named")) is gone at Gemini before its results were read; not resent, to avoid billing twice; a new run sends it again"
            for member in run.members {
                await failBeat(member.index, reason: "beat \(state.beats[member.index].beat): \(reason)", state: &state)
            }
            await forget(run, lane: lane)
        case .storage(let message):
            state.styleError = "style \(style.name): \(message)"
        case .failed(let failure):
            await callFailed(at: position, failure: failure, lane: lane, state: &state)
        }
    }

    /// The batch exists as `snapshot` says (created, or found after a lost answer): poll it.
    private func adopt(_ snapshot: BatchSnapshot, at position: Int, settings: BatchSettings, state: inout RunState) {
        var run = state.batches[position]
        run.phase = .polling(name: snapshot.name, cancelRequested: false)
        run.entry.name = snapshot.name
        run.state = snapshot.state
        run.stats = snapshot.stats
        run.pollDelay = settings.pollInitial
        run.answered()
        if !run.counted {
            run.counted = true
            for member in run.members {
                state.counters[member.index].requests += 1
                state.spend.requests += 1
                state.spend.batchRequests += 1
            }
        }
        state.batches[position] = run
        for member in run.members {
            event(state.beats[member.index], .inBatch, attempt: state.counters[member.index].requests,
                  key: run.key.label, path: state.beats[member.index].relativeStem + ".png",
                  batch: "\(run.displayName) \(snapshot.name)")
        }
    }

    /// A complete listing does not hold the batch: it was never created. Create it (or, once the
    /// job is online or past the deadline, send its beats online).
    private func notFound(at position: Int, lane: BatchLane, state: inout RunState) async {
        let run = state.batches[position]
        if state.sendsToBatch && wallSeconds < run.entry.deadline {
            state.batches[position].phase = .creating
            state.batches[position].retryDelay = nil
            control.emit(.message(
                style: style.name,
                text: "style \(style.name): batch \(run.displayName) is not among project \(run.entry.project)'s batches: it was never created; creating it"))
        } else {
            await sendOnline(at: position, reason: "batch \(run.displayName) was never created", lane: lane, state: &state)
        }
    }

    /// The batch's beats go online (nothing of them was billed in it), and the ledger forgets it.
    private func sendOnline(at position: Int, reason: String, lane: BatchLane, state: inout RunState) async {
        let run = state.batches.remove(at: position)
        for member in run.members { queueOnline(member.index, state: &state) }
        control.emit(.message(
            style: style.name,
            text: "style \(style.name): \(reason): its \(run.members.count) beat\(run.members.count == 1 ? "" : "s") go online"))
        await forget(run, lane: lane)
    }

    /// Drops the batch from the ledger (it was collected, or never created).
    private func forget(_ run: BatchRun, lane: BatchLane) async {
        let displayName = run.displayName
        do {
            try await lane.ledger.update { ledger in ledger.entries.removeAll { $0.displayName == displayName } }
        } catch {
            // Harmless: the next run finds the beats done (or failed) and drops the entry then.
            logger.error("cannot drop a collected batch", metadata: ["style": "\(style.name)", "batch": "\(displayName)", "error": "\(error)"])
        }
    }

    /// A batch call failed: retry it after a backoff (a 429's delay), look for a batch whose create
    /// answer was lost, send a refused batch's beats online, or give up on reading it.
    private func callFailed(at position: Int, failure: ProviderFailure, lane: BatchLane, state: inout RunState) async {
        if case .cancelled = failure, Task.isCancelled {
            state.cancelled = true
            return
        }
        var run = state.batches[position]
        run.failures += 1
        let backoff = min(style.retry.backoff(attempt: run.failures, jitter: Double.random(in: 0...1)), lane.settings.pollMax)
        run.retryDelay = backoff
        if case .rateLimited(let limit) = failure {
            await repace(batchGate(for: run.key), after: limit, startedAt: nil, io: state.io)
            run.retryDelay = limit.retryAfter ?? backoff
        }
        state.batches[position] = run
        let budget = if case .rateLimited = failure { style.retry.maxRateLimitedAttempts } else { style.retry.maxAttempts }
        let exhausted = run.failures >= budget
        switch (run.phase, failure) {
        case (.creating, .transient(_, _, true)):
            state.batches[position].phase = .finding
            state.batches[position].retryDelay = nil
            control.emit(.message(
                style: style.name,
                text: "style \(style.name): the answer to creating batch \(run.displayName) was lost (\(failure.description)); looking for it by name before anything is sent again"))
        case (.creating, .rateLimited), (.creating, .transient), (.creating, .cancelled):
            if exhausted {
                await sendOnline(at: position, reason: "batch \(run.displayName) could not be created (\(failure.description))", lane: lane, state: &state)
            }
        case (.creating, _):
            await sendOnline(at: position, reason: "Gemini refused batch \(run.displayName) (\(failure.description))", lane: lane, state: &state)
        case (.finding, _), (.polling, _):
            if exhausted && wallSeconds >= run.entry.deadline {
                await giveUp(at: position, failure: failure, state: &state)
            }
        }
    }

    /// Past the deadline and still no answer about the batch: its beats fail for this job, not
    /// resent; the ledger keeps it, so a new run looks for it again.
    private func giveUp(at position: Int, failure: ProviderFailure, state: inout RunState) async {
        let run = state.batches.remove(at: position)
        let reason = "cannot tell what batch \(run.displayName) did (\(failure.description)); not resent, to avoid billing twice; a new run looks for it again"
        for member in run.members {
            await failBeat(member.index, reason: "beat \(state.beats[member.index].beat): \(reason)", state: &state)
        }
    }

    /// The batch ended: each beat with a result is done, retried online or failed, as an online
    /// answer would be; a beat without one goes online only when the batch's counts show it was
    /// never processed (so never billed).
    private func end(
        at position: Int, snapshot: BatchSnapshot, results: [Int: AttemptResult], lane: BatchLane, state: inout RunState
    ) async {
        let run = state.batches.remove(at: position)
        let unprocessedOnly = snapshot.stats.processed <= snapshot.results.count
        var (images, failed, online) = (0, 0, 0)
        for member in run.members {
            if let result = results[member.index] {
                if case .done = result { images += 1 } else { failed += 1 }
                await apply(result, to: member.index, key: run.key, state: &state)
            } else if unprocessedOnly {
                online += 1
                queueOnline(member.index, state: &state)
            } else {
                failed += 1
                let reason = "beat \(state.beats[member.index].beat): batch \(run.displayName) ended \(snapshot.state.shortName) counting \(snapshot.stats.processed) requests processed but returned \(snapshot.results.count) results, none for this beat; not resent, to avoid billing twice; a new run sends it"
                await failBeat(member.index, reason: reason, state: &state)
            }
        }
        control.emit(.message(
            style: style.name,
            text: "style \(style.name): batch \(run.displayName) \(snapshot.state.shortName): \(images) image\(images == 1 ? "" : "s"), \(failed) failed, \(online) not processed (going online)"))
        await forget(run, lane: lane)
    }

    /// Queues the beat online for good (a batch did not process it, or it is retried), and says so.
    private func queueOnline(_ index: Int, state: inout RunState) {
        state.onlineOnly.insert(index)
        state.ready.append(index)
        event(state.beats[index], .queued, path: state.beats[index].relativeStem + ".png")
    }

    /// One result of an ended batch, handled as the same answer online would be; a retry goes online.
    private func apply(_ result: AttemptResult, to index: Int, key: APIKey, state: inout RunState) async {
        let batchPrice = price(.batch)
        switch result {
        case .done(let record):
            state.spend.batchImages += 1
            state.charge(index, batchPrice, wasted: false)
            succeed(index, record: record, key: key, state: &state)
        case .storage(let message):
            state.styleError = "style \(style.name): \(message)"
        case .deferred:
            state.onlineOnly.insert(index)
            state.ready.append(index)
        case .failure(let failure):
            state.counters[index].count(failure)
            state.spend.count(failure)
            if failure.mayBeBilled { state.charge(index, batchPrice, wasted: true) }
            state.onlineOnly.insert(index)
            await decide(index, after: failure, key: key, state: &state)
        }
    }
}
