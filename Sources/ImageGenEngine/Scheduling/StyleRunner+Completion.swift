import Foundation

extension StyleRunner {
    /// Takes in a finished request: frees its slots, then records the image, or puts the beat back,
    /// or fails it or the style, as its result says.
    func complete(_ outcome: AttemptOutcome, state: inout RunState) async {
        state.inFlight -= 1
        control.releaseSlot()
        state.pool.release(outcome.slot, answered: outcome.result.answered)
        let index = outcome.index
        let beat = state.beats[index]
        let key = state.pool.slots[outcome.slot].key
        switch outcome.result {
        case .done(let record):
            state.pool.succeeded(outcome.slot)
            state.charge(index, price(.online), wasted: false)
            succeed(index, record: record, key: key, state: &state)
        case .storage(let message):
            state.styleError = "style \(style.name): \(message)"
            state.ready.prepend(index)
        case .deferred:
            // Never sent: undo the dispatch's count; the next loop adopts the cool-down.
            state.counters[index].requests -= 1
            state.spend.requests -= 1
            state.ready.prepend(index)
            event(beat, .queued, path: beat.relativeStem + ".png")
        case .failure(let failure):
            await fail(index, slot: outcome.slot, key: key, failure: failure, startedAt: outcome.startedAt, state: &state)
        }
        failIfNoUsableKey(&state)
        publish(state)
    }

    /// Fails the style when no key is usable any more (rejected, or its quota's daily quota spent).
    func failIfNoUsableKey(_ state: inout RunState) {
        if state.styleError == nil && !state.pool.hasUsableKey {
            state.styleError = "style \(style.name): \(state.pool.exhaustedSummary())"
        }
    }

    /// Records a generated image and releases the beats waiting on it.
    func succeed(_ index: Int, record: BeatRecord, key: APIKey, state: inout RunState) {
        state.done += 1
        state.files[index] = record.file
        state.fileBytes[index] = record.bytes
        state.spend.imagesReceived += 1
        state.spend.usage.add(record.usage)
        state.counters[index].usage.add(record.usage)
        event(state.beats[index], .done, attempt: record.attempts, key: key.label, path: record.file,
              bytes: record.bytes, sha: record.sha256)
        for dependent in (state.dependents.removeValue(forKey: index) ?? []).reversed() {
            state.route(dependent, front: true)
            event(state.beats[dependent], .queued, path: state.beats[dependent].relativeStem + ".png")
        }
    }

    /// A request failed: the key takes its part (cooled, set aside, disabled), the counters count
    /// it, and the ``RetryDecision`` says what becomes of the beat.
    private func fail(
        _ index: Int, slot: Int, key: APIKey, failure: ProviderFailure, startedAt: ContinuousClock.Instant?, state: inout RunState
    ) async {
        state.counters[index].lastError = failure.description
        if case .cancelled = failure, Task.isCancelled {
            state.cancelled = true
            return
        }
        penalize(key, slot: slot, for: failure, pool: &state.pool)
        if case .rateLimited(let limit) = failure {
            await repace(state.pool.gate(slot), after: limit, startedAt: startedAt, io: state.io)
        }
        state.counters[index].count(failure)
        state.spend.count(failure)
        if failure.mayBeBilled { state.charge(index, price(.online), wasted: true) }
        await decide(index, after: failure, key: key, state: &state)
    }

    /// What becomes of the beat at `index` after `failure` (counted already), by its ``RetryDecision``.
    func decide(_ index: Int, after failure: ProviderFailure, key: APIKey, state: inout RunState) async {
        let beat = state.beats[index]
        let attempt = state.counters[index].requests
        let decision = RetryDecision(
            after: failure, counters: state.counters[index], policy: style.retry, beat: beat.beat, style: style.name,
            jitter: Double.random(in: 0...1))
        switch decision {
        case .retryNow:
            state.ready.prepend(index)
            event(beat, .retrying, attempt: attempt, key: key.label, error: failure.description, retryIn: .zero)
        case .requeue:
            state.ready.prepend(index)
        case .retryAfter(let delay):
            state.delayed.append((index, ContinuousClock.now + delay))
            event(beat, .retrying, attempt: attempt, key: key.label, error: failure.description, retryIn: delay)
        case .failBeat(let reason):
            await failBeat(index, reason: reason, state: &state)
        case .failStyle(let reason):
            state.styleError = reason
            state.ready.prepend(index)
        }
    }

    /// What a failure does to its key: a 429 cools the key's quota (its project with the style's
    /// model; or, per day, sets its keys aside), a rejection disables the key; shared with the other styles and jobs through `control`.
    private func penalize(_ key: APIKey, slot: Int, for failure: ProviderFailure, pool: inout KeyPool) {
        switch failure {
        case .rateLimited(let limit) where limit.perDay:
            control.markDailyQuotaSpent(pool.quota(slot), reason: "daily quota exhausted")
            for exhausted in pool.exhaust(slot, reason: "daily quota exhausted") {
                keyEvent(exhausted, .exhausted, reason: "daily quota exhausted: \(limit.message)")
            }
        case .rateLimited(let limit):
            let coolStart = ContinuousClock.now
            let (delay, cooled) = pool.cool(slot, retryAfter: limit.retryAfter, policy: style.retry, now: coolStart)
            control.cool(pool.quota(slot), until: coolStart + delay, foundBy: style.name)
            for cooledKey in cooled { keyEvent(cooledKey, .cooling, duration: delay, reason: "rate limited: \(limit.message)") }
        case .keyRejected(_, let message):
            if pool.disable(slot, reason: message) {
                keyEvent(key, .disabled, reason: failure.description)
                control.emit(.message(style: style.name, text: "style \(style.name): key \(key.label) disabled: \(message)"))
            }
        case .badRequest, .configuration, .transient, .blocked, .noImage, .cancelled:
            break
        }
    }

    /// Records a beat as failed (durably) and fails the beats waiting on it, recursively.
    func failBeat(_ index: Int, reason: String, state: inout RunState) async {
        var stack = [(index, reason)]
        while let (current, why) = stack.popLast() {
            state.failed += 1
            let beat = state.beats[current]
            let c = state.counters[current]
            var record = BeatRecord(
                shot: beat.shot, beat: beat.beat, state: .failed, attempts: c.requests,
                unknownOutcomeAttempts: c.unknownOutcomes, wastedAttempts: c.wasted, lastError: why,
                usage: c.usage, updatedAt: Date().timeIntervalSince1970)
            record.spend(c, lane: state.onlineOnly.contains(current) || !state.sendsToBatch ? .online : .batch)
            do { try await state.store.save(record) } catch {
                logger.error("cannot record failure", metadata: ["style": "\(style.name)", "error": "\(error)"])
            }
            event(beat, .failed, attempt: c.requests, error: why)
            logger.warning("beat failed", metadata: ["style": "\(style.name)", "beat": "\(beat.beat)", "reason": "\(why)"])
            for dependent in (state.dependents.removeValue(forKey: current) ?? []).reversed() {
                stack.append((dependent, "beat \(state.beats[dependent].beat): predecessor \(beat.beat) failed"))
            }
        }
    }
}

extension StyleRunner {
    /// A 429 teaches the quota's pace: a stated limit is learned (and kept in the state
    /// directory, and told to the other servers through the coordinator), a bare one halves the
    /// pace, a refusal at the stated limit spaces starts wider. Each change is told to the job's watchers.
    func repace(_ gate: PaceGate, after limit: RateLimit, startedAt: ContinuousClock.Instant?, io: BlockingIO) async {
        guard let change = gate.rateLimited(limit, startedAt: startedAt) else { return }
        let quota = gate.quota
        do {
            try await control.keep(change, of: quota, io: io)
        } catch {
            logger.error("cannot keep what the pace learned", metadata: ["quota": "\(quota)", "error": "\(error)"])
        }
        if case .learned(let limit, _) = change { await control.share(learnedLimit: limit, of: quota) }
        control.emit(.message(style: style.name, text: "style \(style.name): \(quota): \(change)"))
        logger.info("pace changed", metadata: ["style": "\(style.name)", "quota": "\(quota)", "change": "\(change)"])
    }
}
