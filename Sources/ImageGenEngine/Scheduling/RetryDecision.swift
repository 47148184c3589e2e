/// What the scheduler does with a beat whose request failed, decided from the failure, the beat's
/// counters (already counting this failure) and the style's retry policy alone: no clock, no
/// pool, no I/O. What the failure does to the key (cool, disable, set aside) is the pool's part.
enum RetryDecision: Sendable, Equatable {
    /// Back to the front of the queue at once, announced as a retry (it moves to another ready key).
    case retryNow
    /// Back to the front of the queue at once, not announced: the request was cut off, not answered.
    case requeue
    /// Back to the queue once this backoff has passed.
    case retryAfter(Duration)
    /// The beat fails (recorded, and the beats waiting on it fail with it).
    case failBeat(reason: String)
    /// Nothing more of the style can work until a person acts; every unfinished beat fails with it.
    case failStyle(reason: String)

    /// The decision after `failure` of `beat` (its id) in `style` (its name).
    /// - Parameters:
    ///   - counters: the beat's counters with this failure counted (`BeatCounters.count`).
    ///   - jitter: the random half of a backoff, 0...1 (`RetryPolicy.backoff(attempt:jitter:)`).
    init(
        after failure: ProviderFailure, counters: StyleRunner.BeatCounters, policy: RetryPolicy, beat: String,
        style: String, jitter: Double
    ) {
        switch failure {
        case .rateLimited(let limit):
            self = counters.rateLimited >= policy.maxRateLimitedAttempts
                ? .failBeat(reason: "beat \(beat): rate limited \(counters.rateLimited) times: \(limit.message)") : .retryNow
        case .keyRejected:
            self = .retryNow
        case .configuration:
            self = .failStyle(reason: "style \(style): \(failure.description)")
        case .transient(_, _, let outcomeUnknown):
            let exhausted = outcomeUnknown
                ? counters.unknownOutcomes >= policy.maxUnknownOutcomeAttempts
                : counters.transientFailures >= policy.maxAttempts
            self = exhausted
                ? .failBeat(reason: "beat \(beat): gave up after \(counters.requests) attempts: \(failure.description)")
                : .retryAfter(policy.backoff(attempt: counters.transientFailures + counters.unknownOutcomes, jitter: jitter))
        case .blocked, .badRequest:
            self = .failBeat(reason: "beat \(beat): \(failure.description)")
        case .noImage:
            self = counters.noImage >= policy.maxNoImageAttempts
                ? .failBeat(reason: "beat \(beat): \(failure.description)") : .retryNow
        case .cancelled:
            self = counters.transientFailures >= policy.maxAttempts
                ? .failBeat(reason: "beat \(beat): \(failure.description)") : .requeue
        }
    }
}
