import Foundation
internal import Synchronization

/// What an engine knows about each quota (a ``QuotaID``: project and model) besides its pace: a
/// cool-down after a 429 (until the delay Google gave), and a daily quota found spent (until the
/// next midnight, Pacific time, when Google resets it). Shared by every style and every job of one
/// engine, like ``PaceGates``: a second job on the same keys and model does not spend requests
/// learning what the first one already knows.
final class QuotaBook: Sendable {
    /// Who recorded a cool-down: one style of one job (its own pool cools itself; the others adopt it).
    struct CoolingSource: Hashable, Sendable {
        let job: UUID
        let style: String
    }

    private struct Cooling {
        var until: ContinuousClock.Instant
        var source: CoolingSource?
    }

    private struct State {
        var coolUntil: [QuotaID: Cooling] = [:]
        var spent: [QuotaID: (until: Date, reason: String)] = [:]
    }

    private let state = Mutex(State())

    /// Records that `quota` is cooling until `until`, found by `source` (a later record of the
    /// same quota wins, and names its source).
    func cool(_ quota: QuotaID, until: ContinuousClock.Instant, by source: CoolingSource? = nil) {
        state.withLock { state in
            if let known = state.coolUntil[quota], known.until >= until { return }
            state.coolUntil[quota] = Cooling(until: until, source: source)
        }
    }

    /// The cool-downs still running at `now`, by quota; without those `excluded` recorded last.
    func coolings(now: ContinuousClock.Instant, excluding excluded: CoolingSource? = nil) -> [QuotaID: ContinuousClock.Instant] {
        state.withLock { state in
            state.coolUntil = state.coolUntil.filter { $0.value.until > now }
            return state.coolUntil.compactMapValues { cooling in
                excluded != nil && cooling.source == excluded ? nil : cooling.until
            }
        }
    }

    /// Records that `quota`'s daily quota is spent, until the next midnight Pacific time after `now`.
    func markDailyQuotaSpent(_ quota: QuotaID, reason: String, now: Date) {
        markDailyQuotaSpent(quota, reason: reason, until: Self.nextPacificMidnight(after: now))
    }

    /// Records that `quota`'s daily quota is spent until `until` (as another server found it); a
    /// record that ends later is kept.
    func markDailyQuotaSpent(_ quota: QuotaID, reason: String, until: Date) {
        state.withLock { state in
            if let known = state.spent[quota], known.until >= until { return }
            state.spent[quota] = (until, reason)
        }
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
