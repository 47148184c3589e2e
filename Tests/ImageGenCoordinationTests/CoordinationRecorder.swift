import ImageGenCoordination
import ImageGenEngine
import Synchronization

/// A ``CoordinationObserver`` that keeps what it is told, in order, for a test to read.
final class CoordinationRecorder: CoordinationObserver {
    /// One thing told.
    enum Entry: Equatable, Sendable {
        case statement(CoordinationStatement, CoordinationFailure?)
        case connection(available: Bool)
        case granted(QuotaGrant)
        case withdrew(StartWithdrawal)
    }

    private let entries = Mutex<[Entry]>([])
    private let durations = Mutex<[Duration]>([])

    var told: [Entry] { entries.withLock { $0 } }
    /// The durations of the statements that were sent (not those refused for want of a connection).
    var sentDurations: [Duration] { durations.withLock { $0 } }

    func statementEnded(_ statement: CoordinationStatement, duration: Duration, failure: CoordinationFailure?) {
        entries.withLock { $0.append(.statement(statement, failure)) }
        if failure != .notConnected { durations.withLock { $0.append(duration) } }
    }

    func connectionChanged(available: Bool) {
        entries.withLock { $0.append(.connection(available: available)) }
    }

    func granted(_ grant: QuotaGrant) {
        entries.withLock { $0.append(.granted(grant)) }
    }

    func withdrew(_ withdrawal: StartWithdrawal) {
        entries.withLock { $0.append(.withdrew(withdrawal)) }
    }
}
