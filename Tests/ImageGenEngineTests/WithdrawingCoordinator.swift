import Foundation
import ImageGenEngine
import Synchronization

/// A quota coordinator that reserves every start `ahead` and answers the first withdrawal checks
/// from a script (then lets every start go), recording when each grant and check came: what the
/// engine does with a withdrawn start, without a database (over one: `HeardRefusalsTests`).
final class WithdrawingCoordinator: QuotaCoordinator {
    struct Log {
        var grants: [ContinuousClock.Instant] = []
        var checks: [ContinuousClock.Instant] = []
        var script: [StartWithdrawal]
    }

    let ahead: Duration
    private let log: Mutex<Log>

    init(ahead: Duration = .milliseconds(50), withdrawing script: [StartWithdrawal]) {
        self.ahead = ahead
        log = Mutex(Log(script: script))
    }

    var grants: [ContinuousClock.Instant] { log.withLock { $0.grants } }
    var checks: [ContinuousClock.Instant] { log.withLock { $0.checks } }

    func grant(_ quota: QuotaID, spacing: Duration) async throws(CoordinationUnavailable) -> QuotaGrantReply {
        log.withLock { $0.grants.append(.now) }
        return QuotaGrantReply(.start(after: ahead))
    }

    func withdrawal(ofStartFor quota: QuotaID, askedAt: ContinuousClock.Instant) -> StartWithdrawal? {
        log.withLock { log in
            log.checks.append(.now)
            return log.script.isEmpty ? nil : log.script.removeFirst()
        }
    }

    func cool(_ quota: QuotaID, for delay: Duration) async throws(CoordinationUnavailable) {}
    func learn(_ quota: QuotaID, perMinute: Double) async throws(CoordinationUnavailable) {}
    func markDailyQuotaSpent(_ quota: QuotaID, until: Date, reason: String) async throws(CoordinationUnavailable) {}
}
