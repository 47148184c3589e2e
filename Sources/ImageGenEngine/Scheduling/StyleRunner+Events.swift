extension StyleRunner {
    /// Emits a beat's state change.
    func event(
        _ beat: PlannedBeat, _ state: BeatUpdate.State, attempt: Int = 0, key: String? = nil, path: String? = nil,
        bytes: Int? = nil, sha: String? = nil, error: String? = nil, retryIn: Duration? = nil, batch: String? = nil
    ) {
        control.emit(
            .beat(BeatUpdate(
                style: style.name, shotID: beat.shot, beatID: beat.beat, state: state, attempt: attempt, keyLabel: key,
                outputPath: path, bytes: bytes, sha256: sha, error: error, retryIn: retryIn, batch: batch)))
    }

    /// Logs and emits a key's state change (never its secret).
    func keyEvent(_ key: APIKey, _ state: KeyUpdate.State, duration: Duration? = nil, reason: String) {
        logger.info(
            "key \(state.rawValue)",
            metadata: [
                "style": "\(style.name)", "key": "\(key.label)", "project": "\(key.project)", "model": "\(style.model)", "reason": "\(reason)",
                "duration": "\(duration.map { "\($0)" } ?? "-")",
            ])
        control.emit(
            .key(KeyUpdate(
                style: style.name, keyLabel: key.label, project: key.project, model: style.model, state: state,
                duration: duration, reason: reason)))
    }

    /// Publishes the style's progress.
    func publish(_ run: RunState) {
        let (cooling, disabled) = run.pool.counts(now: ContinuousClock.now)
        let completed = run.skipped + run.done
        let total = storyboard.beatCount
        control.publish(
            StyleCounters(
                style: style.name, total: total, completed: completed, failed: run.failed, inFlight: run.inFlight,
                percent: total == 0 ? 100 : Double(completed) * 100 / Double(total), keysTotal: style.keys.count,
                keysCooling: isOffline ? 0 : cooling, keysDisabled: isOffline ? 0 : disabled, inBatch: run.inBatch,
                batch: batchProgress(run)))
    }
}

extension StyleRunner {
    /// The wave out now: its least advanced batch's state and all its batches' counts.
    func batchProgress(_ run: RunState) -> BatchProgress? {
        guard !run.batches.isEmpty else { return nil }
        func rank(_ state: BatchState) -> Int {
            switch state {
            case .unspecified, .pending: 0
            case .running: 1
            case .succeeded, .failed, .cancelled, .expired: 2
            }
        }
        var stats = BatchStats()
        for batch in run.batches {
            stats.requestCount += batch.stats.requestCount
            stats.successfulRequestCount += batch.stats.successfulRequestCount
            stats.failedRequestCount += batch.stats.failedRequestCount
            stats.pendingRequestCount += batch.stats.pendingRequestCount
        }
        let state = run.batches.map(\.state).min { rank($0) < rank($1) } ?? .pending
        return BatchProgress(wave: run.wave, batches: run.batches.count, state: state, stats: stats)
    }
}
