/// Retry budgets and backoff for one style's requests.
public struct RetryPolicy: Sendable, Equatable {
    /// Attempts in all for a beat that fails transiently (5xx, timeouts before sending).
    public var maxAttempts: Int
    /// Attempts whose outcome is unknown (sent, maybe billed) allowed per beat.
    public var maxUnknownOutcomeAttempts: Int
    /// 429s a single beat may meet before it fails (it is moved to another key each time).
    public var maxRateLimitedAttempts: Int
    /// First backoff delay; doubled per attempt, with jitter.
    public var baseDelay: Duration
    /// Backoff cap.
    public var maxDelay: Duration

    public init(
        maxAttempts: Int = 5, maxUnknownOutcomeAttempts: Int = 2, maxRateLimitedAttempts: Int = 50,
        baseDelay: Duration = .seconds(1), maxDelay: Duration = .seconds(60)
    ) {
        self.maxAttempts = maxAttempts
        self.maxUnknownOutcomeAttempts = maxUnknownOutcomeAttempts
        self.maxRateLimitedAttempts = maxRateLimitedAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// Exponential backoff with "equal jitter": half fixed, half random. `attempt` is 1-based.
    func backoff(attempt: Int) -> Duration {
        let exponent = min(max(attempt - 1, 0), 30)
        let base = Double(baseDelay.components.seconds) + Double(baseDelay.components.attoseconds) * 1e-18
        let cap = Double(maxDelay.components.seconds) + Double(maxDelay.components.attoseconds) * 1e-18
        let full = min(cap, base * Double(1 << exponent))
        let seconds = full / 2 + Double.random(in: 0...(full / 2))
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }
}
