import Foundation
import ImageGenEngine
import ImageGenRPC
import ImageGenWire

/// Conversions between the engine's values and the wire messages of `imagegen.v1`.
enum WireMapping {
    // MARK: Storyboard (wire → engine)

    /// The engine's storyboard for a wire storyboard; invalid ones (rules or `limits`) throw
    /// INVALID_ARGUMENT listing the first problems and how many more there are.
    static func storyboard(
        _ wire: ImageGenWire.Storyboard, limits: StoryboardLimits = .unlimited
    ) throws(RPCError) -> ValidatedStoryboard {
        let shots = wire.shots.map { shot in
            ValidatedStoryboard.Shot(
                id: shot.id,
                beats: shot.beats.map { beat in
                    ValidatedStoryboard.Beat(id: beat.id, prompt: beat.prompt, transition: transition(beat.transition))
                })
        }
        do {
            return try ValidatedStoryboard(shots: shots, limits: limits)
        } catch {
            throw RPCError(.invalidArgument, error.description)
        }
    }

    static func transition(_ wire: ImageGenWire.Transition) -> ValidatedStoryboard.Transition {
        switch wire {
        case .cut: .cut
        case .hardCut: .hardCut
        case .continue: .continue
        }
    }

    // MARK: Storyboard (engine → wire)

    /// The wire form of a validated storyboard: what a job's normalised request holds.
    static func storyboard(_ storyboard: ValidatedStoryboard) -> ImageGenWire.Storyboard {
        ImageGenWire.Storyboard(
            shots: storyboard.shots.map { shot in
                ImageGenWire.Shot(
                    id: shot.id,
                    beats: shot.beats.map { beat in
                        ImageGenWire.Beat(id: beat.id, prompt: beat.prompt, transition: transition(beat.transition))
                    })
            })
    }

    static func transition(_ transition: ValidatedStoryboard.Transition) -> ImageGenWire.Transition {
        switch transition {
        case .cut: .cut
        case .hardCut: .hardCut
        case .continue: .continue
        }
    }

    // MARK: Events (engine → wire)

    /// The wire event kind for an engine event; nil for events the wire does not carry on their own.
    static func kind(_ event: EngineEvent) -> ProgressEvent.Kind? {
        switch event {
        case .beat(let beat): .beat(self.beat(beat))
        case .progress(let progress): .style(self.progress(progress))
        case .key(let key): .key(self.key(key))
        case .message(let style, let text):
            // Engine messages name their style already; prefix only those that do not.
            .message(style.map { text.contains($0) ? text : "\($0): \(text)" } ?? text)
        case .styleFinished(let summary):
            .message("style \(summary.style) \(name(summary.state)): \(summary.done + summary.skipped)/\(summary.total) done"
                + (summary.failed > 0 ? ", \(summary.failed) failed" : "") + (summary.error.map { " (\($0))" } ?? ""))
        case .jobFinished(let summary): .finished(finished(summary))
        }
    }

    static func beat(_ beat: BeatUpdate) -> ImageGenWire.BeatEvent {
        ImageGenWire.BeatEvent(
            style: beat.style, shotID: beat.shotID, beatID: beat.beatID, state: beatState(beat.state),
            attempt: UInt32(clamping: beat.attempt), keyLabel: beat.keyLabel ?? "",
            error: beat.error ?? (beat.retryIn.map { "retry in \($0)" } ?? ""), outputPath: beat.outputPath ?? "",
            bytes: UInt64(clamping: beat.bytes ?? 0), sha256: beat.sha256 ?? "", batch: beat.batch ?? "")
    }

    static func beatState(_ state: BeatUpdate.State) -> ImageGenWire.BeatEvent.State {
        switch state {
        case .queued: .queued
        case .waiting: .waiting
        case .inBatch: .inBatch
        case .generating: .generating
        case .retrying: .retrying
        case .done: .done
        case .failed: .failed
        case .skipped: .skipped
        }
    }

    static func progress(_ progress: StyleCounters) -> ImageGenWire.StyleProgress {
        ImageGenWire.StyleProgress(
            style: progress.style, total: UInt32(clamping: progress.total), completed: UInt32(clamping: progress.completed),
            failed: UInt32(clamping: progress.failed), inFlight: UInt32(clamping: progress.inFlight),
            percent: progress.percent, keysTotal: UInt32(clamping: progress.keysTotal),
            keysCooling: UInt32(clamping: progress.keysCooling), keysDisabled: UInt32(clamping: progress.keysDisabled),
            inBatch: UInt32(clamping: progress.inBatch), batch: progress.batch.map(batchProgress))
    }

    static func batchProgress(_ batch: ImageGenEngine.BatchProgress) -> ImageGenWire.BatchProgress {
        ImageGenWire.BatchProgress(
            wave: UInt32(clamping: batch.wave), batches: UInt32(clamping: batch.batches), state: batch.state.shortName,
            requestCount: UInt64(clamping: batch.stats.requestCount),
            succeeded: UInt64(clamping: batch.stats.successfulRequestCount),
            failed: UInt64(clamping: batch.stats.failedRequestCount), pending: UInt64(clamping: batch.stats.pendingRequestCount))
    }

    /// The job's delivery option; nil keeps each style's.
    static func delivery(_ wire: ImageGenWire.Delivery) -> ImageGenEngine.Delivery? {
        switch wire {
        case .unspecified: nil
        case .online: .online
        case .batch: .batch
        case .auto: .auto
        }
    }

    /// The job's options, checked: a batch deadline must be a finite number of seconds, 0 or more.
    static func jobOptions(_ options: GenerationOptions, styles: [String]?) throws(RPCError) -> JobOptions {
        let deadline = options.batchDeadlineSeconds
        guard deadline.isFinite, deadline >= 0 else {
            throw RPCError(.invalidArgument, "options.batch_deadline_seconds: must be a finite number of seconds ≥ 0, not \(deadline)")
        }
        return JobOptions(
            styles: styles, force: options.force,
            maxConcurrentRequests: options.maxConcurrency > 0 ? Int(options.maxConcurrency) : nil,
            delivery: delivery(options.delivery),
            batchDeadline: deadline > 0 ? .milliseconds(Int64((deadline * 1000).rounded())) : nil)
    }

    static func key(_ key: KeyUpdate) -> ImageGenWire.KeyEvent {
        let state: ImageGenWire.KeyEvent.State
        switch key.state {
        case .cooling: state = .cooling
        case .exhausted: state = .exhausted
        case .disabled: state = .disabled
        case .ready: state = .ready
        }
        return ImageGenWire.KeyEvent(
            style: key.style, keyLabel: key.keyLabel, state: state,
            coolDownMs: UInt64(clamping: key.duration?.wholeMilliseconds ?? 0), reason: key.reason, project: key.project,
            model: key.model)
    }

    static func finished(_ summary: JobSummary) -> JobFinished {
        let styles = summary.styles.map(styleSummary)
        let message = summary.styles.compactMap { style in style.error.map { "style \(style.style): \($0)" } }
            .joined(separator: "; ")
        return JobFinished(state: jobState(summary.state), styles: styles, usage: usage(summary.styles.map(\.spend)), message: message)
    }

    static func styleSummary(_ summary: StyleReport) -> ImageGenWire.StyleSummary {
        ImageGenWire.StyleSummary(
            style: summary.style, total: UInt32(clamping: summary.total), done: UInt32(clamping: summary.done),
            failed: UInt32(clamping: summary.failed), skipped: UInt32(clamping: summary.skipped),
            durationMs: UInt64(clamping: summary.duration.wholeMilliseconds), usage: usage([summary.spend]),
            error: summary.error ?? "")
    }

    static func usage(_ spends: [SpendCounters]) -> Usage {
        var usage = Usage()
        for spend in spends {
            usage.requests += UInt64(clamping: spend.requests)
            usage.images += UInt64(clamping: spend.imagesReceived)
            usage.wastedBilledAttempts += UInt64(clamping: spend.wastedAttempts)
            usage.unknownOutcomeAttempts += UInt64(clamping: spend.unknownOutcomeAttempts)
            usage.promptTokens += UInt64(clamping: spend.usage.promptTokens)
            usage.outputTokens += UInt64(clamping: spend.usage.outputTokens)
            usage.totalTokens += UInt64(clamping: spend.usage.totalTokens)
            usage.batchRequests += UInt64(clamping: spend.batchRequests)
            usage.batchImages += UInt64(clamping: spend.batchImages)
            usage.estimatedCostUSD += spend.estimatedCostUSD
            usage.wastedCostUSD += spend.wastedCostUSD
        }
        return usage
    }

    static func jobState(_ state: JobOutcome) -> ImageGenWire.JobState {
        switch state {
        case .completed: .completed
        case .completedWithErrors: .completedWithErrors
        case .failed: .failed
        case .cancelled: .cancelled
        }
    }

    static func name(_ state: JobOutcome) -> String {
        switch state {
        case .completed: "completed"
        case .completedWithErrors: "completed with errors"
        case .failed: "failed"
        case .cancelled: "cancelled"
        }
    }

    /// An engine error as the status a client should see.
    static func rpcError(_ error: EngineError) -> RPCError {
        let code: RPCError.Code
        switch error.code {
        case .invalidStoryboard, .invalidOptions: code = .invalidArgument
        case .corruptProgress: code = .dataLoss
        case .invalidConfiguration, .unsafePath, .inputTooLarge, .projectLocked: code = .failedPrecondition
        default: code = .internalError
        }
        return RPCError(code, error.description, cause: error)
    }
}
