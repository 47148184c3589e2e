import Foundation

extension StyleRunner {
    /// Sends the beats waiting for a wave once no batch of the style is out: one batch per key
    /// project (the style has one model), each under the inline size limit. The ledger records
    /// every batch before any is created, and each beat's record says which batch it is in.
    /// Past the deadline, or under `auto` when the deadline leaves too little time for the waves
    /// still needed, every beat goes online instead.
    func formWave(_ state: inout RunState) async {
        guard let lane = state.lane, state.sendsToBatch, !state.waveReady.isEmpty, state.batches.isEmpty,
            !state.stopping, !control.isPaused
        else { return }
        let reason = wallSeconds >= lane.deadline
            ? "the batch deadline has passed" : lane.delivery == .auto ? autoGoesOnline(state, lane: lane) : nil
        if let reason {
            state.sendsToBatch = false
            for index in state.waveReady.sorted() { state.ready.append(index) }
            state.waveReady = []
            control.emit(.message(style: style.name, text: "style \(style.name): \(reason); sending online"))
            return
        }
        let keys = batchKeys(state.pool)
        guard !keys.isEmpty else { return }
        let beats = state.waveReady.sorted()
        var groups = Array(repeating: [Int](), count: keys.count)
        for (position, index) in beats.enumerated() { groups[position % keys.count].append(index) }
        var chunks: [(key: APIKey, members: [BatchRun.Member])] = []
        for (key, group) in zip(keys, groups) where !group.isEmpty {
            for chunk in split(group, limit: lane.settings.maxInlineBytes, state: state) {
                chunks.append((key, chunk.map { BatchRun.Member(key: batchKey(state.beats[$0]), index: $0) }))
            }
        }
        let wave = state.wave + 1
        let entries: [BatchLedger.Entry]
        do {
            entries = try await record(wave: wave, chunks: chunks, lane: lane)
        } catch {
            state.styleError = "style \(style.name): cannot record the batches of wave \(wave): \(error.description)"
            return
        }
        state.wave = wave
        state.waveReady = []
        for (entry, chunk) in zip(entries, chunks) {
            await markInBatch(chunk.members, batch: entry.displayName, state: &state)
            state.batches.append(BatchRun(
                entry: entry, members: chunk.members, key: chunk.key, phase: .creating, pollDelay: lane.settings.pollInitial))
        }
        let projects = Set(chunks.map(\.key.project)).sorted().joined(separator: ", ")
        control.emit(.message(
            style: style.name,
            text: "style \(style.name): wave \(wave): \(beats.count) beat\(beats.count == 1 ? "" : "s") in \(entries.count) batch\(entries.count == 1 ? "" : "es") (project \(projects))"))
    }

    /// Once the job was switched to online delivery: the beats waiting for a wave go online, and
    /// the batches out are cancelled at their next call.
    func adoptOnlineSwitch(_ state: inout RunState) {
        guard state.sendsToBatch, control.isSwitchedOnline else { return }
        state.sendsToBatch = false
        for index in state.waveReady.sorted() { state.ready.append(index) }
        state.waveReady = []
        control.emit(.message(
            style: style.name,
            text: "style \(style.name): switched to online delivery; \(state.batches.count) batch\(state.batches.count == 1 ? "" : "es") out will be cancelled, and what they did not process goes online"))
    }

    /// Why `auto` goes online now, or nil when the deadline leaves time for the waves still needed.
    private func autoGoesOnline(_ state: RunState, lane: BatchLane) -> String? {
        func depth(_ index: Int) -> Int { 1 + (state.dependents[index] ?? []).map(depth).max().orZero }
        let waves = state.waveReady.map(depth).max().orZero
        let left = lane.deadline - wallSeconds
        let needed = lane.settings.minimumWaveTime.seconds * Double(waves)
        guard left < needed else { return nil }
        return "auto: \(waves) wave\(waves == 1 ? "" : "s") still needed take at least \(Self.seconds(needed)) (batchMinimumWaveSeconds \(Self.seconds(lane.settings.minimumWaveTime.seconds)) each), but only \(Self.seconds(max(0, left))) are left before the batch deadline"
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : String(format: "%.1f s", value)
    }

    /// One usable key per project, in the order the style lists them.
    private func batchKeys(_ pool: KeyPool) -> [APIKey] {
        var seen: Set<String> = []
        return pool.activeKeys.filter { seen.insert($0.project).inserted }
    }

    /// Splits `group` (plan order) into runs whose estimated request bytes stay under `limit`; a
    /// request bigger than the limit alone goes in its own (Gemini refuses it and it goes online).
    private func split(_ group: [Int], limit: Int, state: RunState) -> [[Int]] {
        var chunks: [[Int]] = []
        var current: [Int] = []
        var bytes = 0
        for index in group {
            let size = requestBytes(index, state: state)
            if !current.isEmpty && bytes + size > limit {
                chunks.append(current)
                current = []
                bytes = 0
            }
            current.append(index)
            bytes += size
        }
        if !current.isEmpty { chunks.append(current) }
        return chunks
    }

    /// A beat's request size in a batch: its prompt, and its references in base64.
    private func requestBytes(_ index: Int, state: RunState) -> Int {
        let beat = state.beats[index]
        var bytes = 1024 + 2 * beat.prompt.utf8.count
        if beat.attachStyleReference, let reference = state.plan.styleReference { bytes += reference.data.count * 4 / 3 + 4 }
        if let predecessor = beat.predecessor {
            bytes += (state.fileBytes[predecessor] ?? configuration.maxReferenceImageBytes) * 4 / 3 + 4
        }
        return bytes
    }

    /// Records the wave's batches in the ledger (one durable write), each with its display name.
    private func record(wave: Int, chunks: [(key: APIKey, members: [BatchRun.Member])], lane: BatchLane)
        async throws(EngineError) -> [BatchLedger.Entry]
    {
        let (styleName, model, deadline) = (style.name, style.model, lane.deadline)
        let plans = chunks.map { (project: $0.key.project, label: $0.key.label, beats: $0.members.map(\.key)) }
        return try await lane.ledger.update { ledger in
            let now = Date().timeIntervalSince1970
            return plans.map { plan in
                let entry = BatchLedger.Entry(
                    displayName: ledger.nextDisplayName(style: styleName, wave: wave), name: nil, wave: wave,
                    project: plan.project, keyLabel: plan.label, model: model, beats: plan.beats, createdAt: now,
                    deadline: deadline)
                ledger.entries.append(entry)
                return entry
            }
        }
    }

    /// Records each beat as pending in `batch` and tells the watchers.
    private func markInBatch(_ members: [BatchRun.Member], batch: String, state: inout RunState) async {
        for member in members {
            let beat = state.beats[member.index]
            let c = state.counters[member.index]
            var record = BeatRecord(
                shot: beat.shot, beat: beat.beat, state: .pending, attempts: c.requests,
                unknownOutcomeAttempts: c.unknownOutcomes, wastedAttempts: c.wasted, lastError: c.lastError,
                usage: c.usage, updatedAt: Date().timeIntervalSince1970)
            record.spend(c, lane: .batch, batch: batch)
            do { try await state.store.save(record) } catch {
                logger.error("cannot record a beat in a batch", metadata: ["style": "\(style.name)", "error": "\(error)"])
            }
            event(beat, .inBatch, attempt: c.requests, path: beat.relativeStem + ".png", batch: batch)
        }
    }
}

extension Optional where Wrapped == Int {
    /// The value, or 0.
    fileprivate var orZero: Int { self ?? 0 }
}
