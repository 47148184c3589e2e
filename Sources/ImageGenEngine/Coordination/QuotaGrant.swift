public import Foundation

/// What a ``QuotaCoordinator`` answers a request start.
public enum QuotaGrant: Sendable, Equatable {
    /// The start is reserved: the request starts once `after` has passed (zero: now).
    case start(after: Duration)
    /// Too early to reserve a start: ask again in `Duration`.
    case wait(Duration)
    /// The quota cools after a 429 (found by any server) for `Duration` more: the request is not sent.
    case cooling(Duration)
    /// The quota's daily quota is spent until `until`, for `reason`.
    case dailyQuotaSpent(until: Date, reason: String)
}
