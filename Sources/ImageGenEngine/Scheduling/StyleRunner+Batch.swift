import Foundation

extension StyleRunner {
    /// A style's way to the Batch API: the provider's batch calls, the style's ledger, its timings,
    /// and until when this job's batches may run.
    struct BatchLane: Sendable {
        let provider: any BatchProvider
        let ledger: BatchLedgerStore
        let settings: BatchSettings
        /// This job's delivery for the style (`online` when only an earlier run's batches are collected).
        let delivery: Delivery
        /// Seconds since 1970 by which this job's batches must be done.
        let deadline: Double
    }

    /// The style's delivery in this job: the job's choice, else the style's.
    var effectiveDelivery: Delivery { delivery ?? style.delivery }

    /// Opens the style's batch ledger when its provider speaks the Batch API (also for online
    /// delivery: an earlier run's batches are collected). Nil for an offline style or a provider
    /// without batches; a batch delivery then says its beats go online.
    func openBatchLane(jobStart: Date) async -> Result<BatchLane?, PrepareFailure> {
        guard !isOffline, let batchProvider = provider.batchProvider else {
            if effectiveDelivery != .online {
                control.emit(.message(
                    style: style.name,
                    text: "style \(style.name): delivery \(effectiveDelivery.rawValue), but the \(provider.name) renderer has no Batch API: every beat goes online"))
            }
            return .success(nil)
        }
        do {
            let ledger = try await BatchLedgerStore.open(
                directory: project, style: style.name, sync: configuration.durability == .full)
            let deadline = jobStart.addingTimeInterval((batchDeadline ?? style.batch.deadline).seconds)
            return .success(BatchLane(
                provider: batchProvider, ledger: ledger, settings: style.batch, delivery: effectiveDelivery,
                deadline: deadline.timeIntervalSince1970))
        } catch {
            let message = "style \(style.name): \(error.description)"
            control.emit(.message(style: style.name, text: message))
            return .failure(PrepareFailure(message: message))
        }
    }

    /// `"<style>/<shot>/<beat>"`: a beat's request key in a batch.
    func batchKey(_ beat: PlannedBeat) -> String { "\(style.name)/\(beat.shot)/\(beat.beat)" }

    /// The estimated price of one image in `lane` (0 offline or unpriced).
    func price(_ lane: Delivery) -> Double {
        guard !isOffline else { return 0 }
        return configuration.prices.price(model: style.model, imageSize: style.imageSize, lane: lane) ?? 0
    }

    /// The gate of the batch endpoints of a key's project, their own quota: unpaced (a batch's
    /// calls are spaced by its poll backoff), and a 429 there holds that batch's next call for
    /// the delay Gemini gives.
    func batchGate(for key: APIKey) -> PaceGate {
        control.gate(quota: QuotaID(project: key.project, model: style.model + " (Batch API)"), configured: 0)
    }
}

extension StyleRunner {
    /// What restoring an earlier run's batches left to do once the beats are queued: beats of
    /// batches no configured key can read, to fail.
    struct RestoredBatches {
        var unreachable: [(index: Int, reason: String)] = []
    }

    /// Takes up the batches an earlier run left in the ledger: each beat still to generate that
    /// one holds is claimed by it (polled, never sent again); entries whose beats are all done are dropped.
    func restoreBatches(_ state: inout RunState) async -> RestoredBatches {
        var restored = RestoredBatches()
        guard let lane = state.lane else { return restored }
        let entries = lane.ledger.current.entries
        guard !entries.isEmpty else { return restored }
        var indexOf: [String: Int] = [:]
        for beat in state.beats { indexOf[batchKey(beat)] = beat.index }
        var collected: [String] = []
        for entry in entries {
            let members = entry.beats.compactMap { key -> BatchRun.Member? in
                guard let index = indexOf[key], case .generate = state.plan.decisions[index],
                    state.claimed[index] == nil else { return nil }
                return BatchRun.Member(key: key, index: index)
            }
            guard !members.isEmpty else {
                collected.append(entry.displayName)
                continue
            }
            for member in members { state.claimed[member.index] = entry.displayName }
            guard let key = readingKey(for: entry, pool: state.pool) else {
                let reason = "in batch \(entry.displayName) of project \(entry.project), which no key of style \(style.name) belongs to now; not resent, to avoid billing twice: add a key of project \(entry.project) to collect it"
                for member in members {
                    restored.unreachable.append((member.index, "beat \(state.beats[member.index].beat): \(reason)"))
                }
                continue
            }
            let phase: BatchRun.Phase = entry.name.map { .polling(name: $0, cancelRequested: false) } ?? .finding
            var run = BatchRun(entry: entry, members: members, key: key, phase: phase, pollDelay: .zero)
            run.counted = true
            state.batches.append(run)
            state.wave = max(state.wave, entry.wave)
        }
        if !collected.isEmpty {
            let collected = collected
            do {
                try await lane.ledger.update { ledger in ledger.entries.removeAll { collected.contains($0.displayName) } }
            } catch {
                logger.error("cannot drop collected batches", metadata: ["style": "\(style.name)", "error": "\(error)"])
            }
        }
        if !state.batches.isEmpty {
            let beats = state.batches.reduce(0) { $0 + $1.members.count }
            control.emit(.message(
                style: style.name,
                text: "style \(style.name): collecting \(state.batches.count) batch\(state.batches.count == 1 ? "" : "es") of an earlier run (\(beats) beat\(beats == 1 ? "" : "s")); none is sent again"))
        }
        return restored
    }

    /// The key a batch is read with: the one it was created with, else any usable key of its project.
    private func readingKey(for entry: BatchLedger.Entry, pool: KeyPool) -> APIKey? {
        let keys = pool.activeKeys.filter { $0.project == entry.project }
        return keys.first { $0.label == entry.keyLabel } ?? keys.first
    }

    /// Fails the beats of batches no key can read (after queueing, so their dependents fail too).
    func failUnreachable(_ restored: RestoredBatches, state: inout RunState) async {
        for (index, reason) in restored.unreachable { await failBeat(index, reason: reason, state: &state) }
    }
}
