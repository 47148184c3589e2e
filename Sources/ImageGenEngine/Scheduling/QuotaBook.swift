import Foundation
internal import Synchronization

/// What an engine knows about each quota (a ``QuotaID``: project and model) besides its pace: a
/// cool-down after a 429 (until the delay Google gave), and a daily quota found spent (until the
/// next midnight, Pacific time, when Google resets it). Shared by every style and every job of one
/// engine, like ``PaceGates``: a second job on the same keys and model does not spend requests
/// learning what the first one already knows.
final class QuotaBook: Sendable {
    private struct State {
        var coolUntil: [QuotaID: ContinuousClock.Instant] = [:]
        var spent: [QuotaID: (until: Date, reason: String)] = [:]
    }

    private let state = Mutex(State())

    /// Records that `quota` is cooling until `until` (a later record of the same quota wins).
    func cool(_ quota: QuotaID, until: ContinuousClock.Instant) {
        state.withLock { state in
            state.coolUntil[quota] = max(state.coolUntil[quota] ?? until, until)
        }
    }

    /// The cool-downs still running at `now`, by quota.
    func coolings(now: ContinuousClock.Instant) -> [QuotaID: ContinuousClock.Instant] {
        state.withLock { state in
            state.coolUntil = state.coolUntil.filter { $0.value > now }
            return state.coolUntil
        }
    }

    /// Records that `quota`'s daily quota is spent, until the next midnight Pacific time after `now`.
    func markDailyQuotaSpent(_ quota: QuotaID, reason: String, now: Date) {
        let until = Self.nextPacificMidnight(after: now)
        state.withLock { $0.spent[quota] = (until, reason) }
    }

    /// The quotas whose daily quota is spent at `now`, with the reason first seen.
    func spentDailyQuotas(now: Date) -> [QuotaID: String] {
        state.withLock { state in
            state.spent = state.spent.filter { $0.value.until > now }
            return state.spent.mapValues(\.reason)
        }
    }

    /// The first midnight in America/Los_Angeles after `date` (Gemini's per-day quotas reset then).
    static func nextPacificMidnight(after date: Date) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "America/Los_Angeles") ?? TimeZone(secondsFromGMT: -8 * 3600)!
        let startOfDay = calendar.startOfDay(for: date)
        return calendar.date(byAdding: .day, value: 1, to: startOfDay) ?? date.addingTimeInterval(86_400)
    }
}
