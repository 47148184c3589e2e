public import Foundation

/// Shares each quota (``QuotaID``: project and model) with the other servers that spend it: one
/// pace, one set of cool-downs and spent daily quotas for all of them (issue 13). Without one, an
/// engine paces and cools its quotas alone (``ImageEngine``'s default).
///
/// Every request start asks ``grant(_:spacing:)`` after the engine's own pace allowed it; a 429
/// is told with ``cool(_:for:)`` or ``markDailyQuotaSpent(_:until:reason:)`` the moment it is
/// answered. A coordinator that cannot reach what it coordinates through throws
/// ``CoordinationUnavailable``: the engine then starts no request until it answers again (it
/// fails closed; it never falls back to pacing alone).
public protocol QuotaCoordinator: Sendable {
    /// Asks to start one request of `quota`, whose starts must lie `spacing` apart across every
    /// server.
    func grant(_ quota: QuotaID, spacing: Duration) async throws(CoordinationUnavailable) -> QuotaGrant

    /// `quota` was refused (a per-minute 429): no server starts a request of it for `delay`. A
    /// cool-down already recorded that ends later is kept.
    func cool(_ quota: QuotaID, for delay: Duration) async throws(CoordinationUnavailable)

    /// `quota`'s daily quota is spent until `until` (the next midnight, Pacific time).
    func markDailyQuotaSpent(_ quota: QuotaID, until: Date, reason: String) async throws(CoordinationUnavailable)
}
