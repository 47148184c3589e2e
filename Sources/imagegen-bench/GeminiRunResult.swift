import FakeGemini
import ImageGenEngine

/// What one engine job against the fake Gemini server did.
struct GeminiRunResult: Sendable {
    /// When each image was done, relative to the job's start, in order.
    var doneOffsets: [Duration]
    /// Beats that failed.
    var failed: Int
    /// The job's wall time (from `run()` to its return).
    var wall: Duration
    /// The job's final state.
    var state: JobOutcome
    /// Every generateContent request the fake saw (and each request a batch processed).
    var requestLog: [FakeGeminiRequestLogEntry]
    /// What each style spent, by the engine's count.
    var spend: [SpendCounters] = []
    /// The Batch API batches the fake holds at the end.
    var batches: [FakeGeminiBatchRecord] = []

    var images: Int { doneOffsets.count }

    /// Requests the fake answered with a per-minute 429.
    var rateLimitedRequests: Int { requestLog.filter { $0.kind == "rate_limited" }.count }

    /// Images per second from the `warmup`-th image to the last: (images − warmup) ÷ (t_last − t_warmup).
    /// Falls back to the whole run when there are too few images.
    func steadyRate(warmup: Int) -> Double {
        let sorted = doneOffsets.sorted()
        guard warmup >= 1, sorted.count > warmup + 1 else { return Double(images) / max(wall.seconds, 1e-9) }
        let span = (sorted[sorted.count - 1] - sorted[warmup - 1]).seconds
        return Double(sorted.count - warmup) / max(span, 1e-9)
    }

    /// The admitted requests per second that reached the fake, summed over its quotas (project,
    /// model): each quota's rate is its admitted arrivals after the first `skip`, less one, over
    /// the time from that arrival to its last — intervals over time, so the quotas' requests
    /// arriving together do not count twice at the start (as an image count over a span does).
    func quotaRate(skip: Int) -> Double {
        let admitted = requestLog.filter { $0.status == 200 }
        let byQuota = Dictionary(grouping: admitted) { "\($0.project ?? "?")/\($0.model)" }
        return byQuota.values.reduce(0) { total, entries in
            let times = entries.map(\.time).sorted()
            guard times.count > skip + 1 else { return total }
            let span = times[times.count - 1].timeIntervalSince(times[skip])
            return total + Double(times.count - 1 - skip) / max(span, 1e-9)
        }
    }
}
