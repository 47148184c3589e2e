import Foundation
internal import Synchronization

/// What an engine knows about each Google Cloud project's quota besides its pace: a cool-down after
/// a 429 (until the delay Google gave), and a daily quota found spent (until the next midnight,
/// Pacific time, when Google resets it). Shared by every style and every job of one engine, like
/// ``PaceGates``: a second job on the same keys does not spend requests learning what the first
/// one already knows.
final class ProjectQuotaBook: Sendable {
    private struct State {
        var coolUntil: [String: ContinuousClock.Instant] = [:]
        var spent: [String: (until: Date, reason: String)] = [:]
    }

    private let state = Mutex(State())

    /// Records that `project` is cooling until `until` (a later record of the same project wins).
    func cool(_ project: String, until: ContinuousClock.Instant) {
        state.withLock { state in
            state.coolUntil[project] = max(state.coolUntil[project] ?? until, until)
        }
    }

    /// The cool-downs still running at `now`, by project.
    func coolings(now: ContinuousClock.Instant) -> [String: ContinuousClock.Instant] {
        state.withLock { state in
            state.coolUntil = state.coolUntil.filter { $0.value > now }
            return state.coolUntil
        }
    }

    /// Records that `project`'s daily quota is spent, until the next midnight Pacific time after `now`.
    func markDailyQuotaSpent(_ project: String, reason: String, now: Date) {
        let until = Self.nextPacificMidnight(after: now)
        state.withLock { $0.spent[project] = (until, reason) }
    }

    /// The projects whose daily quota is spent at `now`, with the reason first seen.
    func spentDailyQuotas(now: Date) -> [String: String] {
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
