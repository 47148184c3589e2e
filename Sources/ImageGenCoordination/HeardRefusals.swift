import Foundation
import ImageGenEngine
import Synchronization

/// The 429 cool-downs and spent daily quotas the servers on the database told each other
/// (`pg_notify` on ``channel``, by ``PostgresQuotaCoordinator/cool(_:for:)`` and
/// ``PostgresQuotaCoordinator/markDailyQuotaSpent(_:until:reason:)``), by quota, until they end:
/// what a start reserved before one of them was heard of is withdrawn for.
final class HeardRefusals: Sendable {
    static let channel = "imagegen_quota_refused"
    /// PostgreSQL's bound on a notification's payload: a longer one is not sent (the refusal is
    /// recorded all the same, and found by the next grant).
    static let largestPayload = 8_000
    /// The most quotas remembered (a server spends a few dozen); a notice beyond is not kept.
    static let largestCount = 10_000
    /// The longest cool-down taken from a notice (Gemini's are seconds to minutes).
    static let longestCoolDown = Duration.seconds(3_600)
    /// How far ahead a spent daily quota is taken from a notice (it ends at the next midnight, Pacific time).
    static let longestSpentDay: TimeInterval = 26 * 3_600

    /// One notification's payload (JSON, made by the statement that recorded the refusal).
    struct Notice: Decodable {
        let project: String
        let model: String
        /// "cooling" (with `remainingUS`, measured on the database's clock) or "spent" (with `until` and `reason`).
        let kind: String
        let remainingUS: Int64?
        let until: Double?
        let reason: String?

        enum CodingKeys: String, CodingKey {
            case project, model, kind, until, reason
            case remainingUS = "remaining_us"
        }
    }

    /// What is known of one quota.
    struct Refusal {
        var coolsUntil: ContinuousClock.Instant?
        var spent: (until: Date, reason: String)?

        func hasEnded(now: ContinuousClock.Instant, today: Date) -> Bool {
            (coolsUntil.map { $0 <= now } ?? true) && (spent.map { $0.until <= today } ?? true)
        }
    }

    private let refusals = Mutex<[QuotaID: Refusal]>([:])

    /// Notes a notification; a payload that is not a notice is ignored (it refuses nothing), and
    /// one stating more than a refusal can last is bounded.
    func note(_ payload: String, now: ContinuousClock.Instant = .now) {
        guard payload.utf8.count < Self.largestPayload, let notice = try? JSONDecoder().decode(Notice.self, from: Data(payload.utf8)) else { return }
        let quota = QuotaID(project: notice.project, model: notice.model)
        let today = Date()
        refusals.withLock { refusals in
            var refusal = refusals[quota] ?? Refusal()
            switch notice.kind {
            case "cooling":
                guard let remaining = notice.remainingUS, remaining > 0 else { return }
                let until = now + min(.microseconds(remaining), Self.longestCoolDown)
                refusal.coolsUntil = max(refusal.coolsUntil ?? until, until)
            case "spent":
                guard let epoch = notice.until, epoch.isFinite else { return }
                let until = min(Date(timeIntervalSince1970: epoch), today.addingTimeInterval(Self.longestSpentDay))
                guard until > today else { return }
                if until > refusal.spent?.until ?? .distantPast { refusal.spent = (until, String((notice.reason ?? "").prefix(500))) }
            default:
                return
            }
            if refusals[quota] == nil, refusals.count >= Self.largestCount {
                refusals = refusals.filter { !$0.value.hasEnded(now: now, today: today) }
                guard refusals.count < Self.largestCount else { return }
            }
            refusals[quota] = refusal
        }
    }

    /// Why a start of `quota` must not go now; nil when nothing heard of refuses it. Forgets what has ended.
    func withdrawal(ofStartFor quota: QuotaID, now: ContinuousClock.Instant = .now) -> StartWithdrawal? {
        refusals.withLock { refusals -> StartWithdrawal? in
            guard var refusal = refusals[quota] else { return nil }
            if let spent = refusal.spent, spent.until <= Date() { refusal.spent = nil }
            if let until = refusal.coolsUntil, until <= now { refusal.coolsUntil = nil }
            refusals[quota] = refusal.spent == nil && refusal.coolsUntil == nil ? nil : refusal
            if let spent = refusal.spent { return .dailyQuotaSpent(until: spent.until, reason: spent.reason) }
            if let until = refusal.coolsUntil { return .cooling(until - now) }
            return nil
        }
    }
}
