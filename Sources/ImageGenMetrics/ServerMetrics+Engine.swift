public import ImageGenEngine
import Prometheus

/// The engine's events, counted as the service receives them (billed requests, tokens and spend are
/// counted per request by ``MeteredProvider``).
extension ServerMetrics {
    /// Counts one engine event of job `jobID`.
    public func record(jobID: String, _ event: EngineEvent) {
        switch event {
        case .beat(let beat): record(beat)
        case .key(let key): record(key)
        case .progress(let counters): setInFlight(jobID: jobID, style: counters.style, counters.inFlight)
        case .jobFinished(let summary): finishInFlight(jobID: jobID, styles: summary.styles.map(\.style))
        case .styleFinished, .message: break
        }
    }

    private func labels(_ style: String) -> [(String, String)] { [("style", style), ("model", model(of: style))] }

    private func record(_ beat: BeatUpdate) {
        switch beat.state {
        case .done: counter("engine", "images_done", "Images rendered and recorded, by style and model.", labels(beat.style)).increment()
        case .failed: counter("engine", "images_failed", "Beats given up for their job, by style and model.", labels(beat.style)).increment()
        case .retrying: counter("engine", "beat_retries", "Retries scheduled for a beat, by style and model.", labels(beat.style)).increment()
        case .skipped: counter("engine", "images_skipped", "Beats already done by an earlier run, by style and model.", labels(beat.style)).increment()
        case .queued, .waiting, .generating, .inBatch: break
        }
    }

    private func record(_ key: KeyUpdate) {
        counter("engine", "key_state_changes", "Key state changes (cooling, exhausted, disabled, ready), by style and state.",
                [("style", key.style), ("state", key.state.rawValue)]).increment()
        if key.state == .cooling {
            counter("engine", "cooldowns", "Cool-downs after a rate limit, by style and Google Cloud project.",
                    [("style", key.style), ("project", key.project)]).increment()
        }
    }

    func inFlightGauge(_ style: String) -> Gauge {
        gauge("engine", "in_flight", "requests", "Provider requests in flight, by style (all jobs).", [("style", style)])
    }

    private func setInFlight(jobID: String, style: String, _ count: Int) {
        let total = inFlight.withLock { jobs -> Int in
            jobs[jobID, default: [:]][style] = count
            return jobs.values.reduce(0) { $0 + ($1[style] ?? 0) }
        }
        inFlightGauge(style).set(Double(total))
    }

    private func finishInFlight(jobID: String, styles: [String]) {
        let totals = inFlight.withLock { jobs -> [(String, Int)] in
            let mine = Set(styles).union(jobs[jobID].map { Array($0.keys) } ?? [])
            jobs[jobID] = nil
            return mine.map { style in (style, jobs.values.reduce(0) { $0 + ($1[style] ?? 0) }) }
        }
        for (style, total) in totals { inFlightGauge(style).set(Double(total)) }
    }
}
