public import Foundation

/// Why a start a ``QuotaCoordinator`` reserved must not go when its time comes
/// (``QuotaCoordinator/withdrawal(ofStartFor:askedAt:)``): the start was granted up to a second ahead,
/// and since then the coordinator lost what it coordinates through, or heard that another server
/// met a 429 or a spent daily quota on the quota.
public enum StartWithdrawal: Sendable, Equatable {
    /// The coordinator cannot be reached now: nothing starts until it answers (fail closed).
    case unavailable(CoordinationUnavailable)
    /// Another server's 429 cools the quota for `Duration` more.
    case cooling(Duration)
    /// Another server found the quota's daily quota spent until `until`, for `reason`.
    case dailyQuotaSpent(until: Date, reason: String)
}
