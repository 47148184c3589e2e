/// Retry budgets and backoff for one style's requests.
public struct RetryPolicy: Sendable, Equatable {
    /// Attempts in all for a beat that fails transiently (5xx, timeouts before sending).
    public var maxAttempts: Int
    /// Attempts whose outcome is unknown (sent, maybe billed) allowed per beat.
    public var maxUnknownOutcomeAttempts: Int
    /// 429s a single beat may meet before it fails (it is moved to another key each time).
    public var maxRateLimitedAttempts: Int
    /// Billed answers without an image (NO_IMAGE, text only) a beat may get before it fails.
    public var maxNoImageAttempts: Int
    /// First backoff delay; doubled per attempt, with jitter.
    public var baseDelay: Duration
    /// Backoff cap.
    public var maxDelay: Duration

    public init(
        maxAttempts: Int = 5, maxUnknownOutcomeAttempts: Int = 2, maxRateLimitedAttempts: Int = 50,
        maxNoImageAttempts: Int = 2, baseDelay: Duration = .seconds(1), maxDelay: Duration = .seconds(60)
    ) {
        self.maxAttempts = maxAttempts
        self.maxUnknownOutcomeAttempts = maxUnknownOutcomeAttempts
        self.maxRateLimitedAttempts = maxRateLimitedAttempts
        self.maxNoImageAttempts = maxNoImageAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// How long a quota cools after a 429: the delay Gemini gave (RetryInfo), else the backoff
    /// for the `refusal`-th consecutive refusal (1-based) with `jitter` as its random half.
    func coolDown(retryAfter: Duration?, refusal: Int, jitter: Double = Double.random(in: 0...1)) -> Duration {
        retryAfter ?? backoff(attempt: refusal, jitter: jitter)
    }

    /// Exponential backoff with "equal jitter": half fixed, half random. `attempt` is 1-based.
    func backoff(attempt: Int) -> Duration {
        backoff(attempt: attempt, jitter: Double.random(in: 0...1))
    }

    /// The backoff for `attempt` (1-based) with the random half fixed by `jitter` (0...1):
    /// `full / 2 + jitter * full / 2`, where `full` is `baseDelay` doubled per attempt, capped at `maxDelay`.
    func backoff(attempt: Int, jitter: Double) -> Duration {
        let exponent = min(max(attempt - 1, 0), 30)
        let base = baseDelay.seconds
        let cap = maxDelay.seconds
        let full = min(cap, base * Double(1 << exponent))
        let seconds = full / 2 + min(max(jitter, 0), 1) * (full / 2)
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }
}
