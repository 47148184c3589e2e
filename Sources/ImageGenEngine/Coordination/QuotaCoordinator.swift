public import Foundation

/// Shares each quota (``QuotaID``: project and model) with the other servers that spend it: one
/// pace, one set of cool-downs, learned limits and spent daily quotas for all of them (issue 13). Without one, an
/// engine paces and cools its quotas alone (``ImageEngine``'s default).
///
/// Every request start asks ``grant(_:spacing:)`` after the engine's own pace allowed it; a 429
/// is told with ``cool(_:for:)`` or ``markDailyQuotaSpent(_:until:reason:)`` the moment it is
/// answered, and the limit it stated with ``learn(_:perMinute:)`` once the pace learned it. A coordinator that cannot reach what it coordinates through throws
/// ``CoordinationUnavailable``: the engine then starts no request until it answers again (it
/// fails closed; it never falls back to pacing alone).
public protocol QuotaCoordinator: Sendable {
    /// Asks to start one request of `quota`, whose starts must lie `spacing` apart across every
    /// server (or further, at the limit learned for it).
    func grant(_ quota: QuotaID, spacing: Duration) async throws(CoordinationUnavailable) -> QuotaGrantReply

    /// Asked when a start ``grant(_:spacing:)`` reserved ahead (asked for at `askedAt`) is due,
    /// just before the request goes: nil when it may go; why not when the coordinator has lost
    /// what it coordinates through since it was asked, or has heard that another server cooled
    /// `quota` or found its daily quota spent. It answers from what it already knows (no
    /// round-trip: the start is due now).
    func withdrawal(ofStartFor quota: QuotaID, askedAt: ContinuousClock.Instant) -> StartWithdrawal?

    /// `quota` was refused (a per-minute 429): no server starts a request of it for `delay`. A
    /// cool-down already recorded that ends later is kept.
    func cool(_ quota: QuotaID, for delay: Duration) async throws(CoordinationUnavailable)

    /// A 429 stated `perMinute` as `quota`'s limit: every server paces it at that from now on
    /// (a later statement replaces it, whatever its value: a project's tier may change).
    func learn(_ quota: QuotaID, perMinute: Double) async throws(CoordinationUnavailable)

    /// `quota`'s daily quota is spent until `until` (the next midnight, Pacific time).
    func markDailyQuotaSpent(_ quota: QuotaID, until: Date, reason: String) async throws(CoordinationUnavailable)
}
