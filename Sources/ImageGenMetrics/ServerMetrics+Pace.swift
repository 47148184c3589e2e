public import ImageGenEngine
import Prometheus

/// The engine's pace per quota (project and model), set from ``PaceReading``s before each scrape.
extension ServerMetrics {
    /// The phases a pace can be in, each a series of `imagegen_engine_pace_phase`.
    static let pacePhases = ["configured", "slow_start", "learned", "recovering", "unpaced"]

    /// Sets the pace gauges of every quota read; a limit that is not known (or not configured) has no series.
    public func record(paces: [PaceReading]) {
        for reading in paces { record(reading) }
        if let pushback = paces.first?.pushbackPercent {
            gauge("engine", "pace_pushback", "percent", "How much wider every quota's request starts are spaced after refusals at the stated limit (engine-wide).", [])
                .set(pushback)
        }
    }

    private func record(_ reading: PaceReading) {
        let labels = [("project", reading.quota.project), ("model", reading.quota.model)]
        gauge("engine", "pace", "requests_per_minute", "The pace a quota's request starts are held to now, by project and model (0: unpaced).", labels)
            .set(reading.requestsPerMinute)
        setLimit("learned_limit", reading.learnedLimit, reading.quota,
                 "The per-minute limit Gemini stated for a quota (in a 429, or before a restart), by project and model.")
        setLimit("configured_limit", reading.configuredLimit, reading.quota,
                 "The configured upper bound of a quota's pace (requestsPerMinute), by project and model.")
        gauge("engine", "pace_spacing", "seconds", "The time between two request starts of a quota now, margins included, by project and model.", labels)
            .set(reading.spacing.seconds)
        gauge("engine", "send_delay_spread", "seconds", "The measured spread of start-to-wire delays of a quota's requests (a late one holds the next start back by its lateness), by project and model.", labels)
            .set(reading.sendDelaySpread.seconds)
        for phase in Self.pacePhases {
            gauge("engine", "pace_phase", "", "A quota's pace phase: 1 for the current one (configured, slow_start, learned, recovering, unpaced), 0 for the others.",
                  labels + [("phase", phase)]).set(reading.phase == phase ? 1.0 : 0.0)
        }
    }

    /// Sets a limit's gauge, or removes the series when the limit is not known (a gauge is only
    /// made once there is a value, so a scrape never sees a made-up 0).
    private func setLimit(_ metric: String, _ value: Double?, _ quota: QuotaID, _ help: String) {
        let series = PublishedLimit(metric: metric, quota: quota)
        let labels = [("project", quota.project), ("model", quota.model)]
        if let value {
            gauge("engine", metric, "requests_per_minute", help, labels).set(value)
            publishedLimits.withLock { _ = $0.insert(series) }
        } else if publishedLimits.withLock({ $0.remove(series) != nil }) {
            registry.unregisterGauge(gauge("engine", metric, "requests_per_minute", help, labels))
        }
    }
}
