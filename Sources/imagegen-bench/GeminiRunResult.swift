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
    /// Every generateContent request the fake saw.
    var requestLog: [FakeGeminiRequestLogEntry]

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
}
