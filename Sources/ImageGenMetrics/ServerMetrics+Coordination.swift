public import ImageGenCoordination
public import ImageGenEngine
import Prometheus

/// What the coordination database does (`--coordination`): statement latency and failures by
/// statement, whether the server is connected, the answers of request-start grants, and the
/// reserved starts withdrawn.
extension ServerMetrics: CoordinationObserver {
    /// Buckets of the statement latency histogram: a loopback grant takes about a millisecond,
    /// the statement timeout is seconds.
    static let statementBuckets: [Duration] = [
        .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
        .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
    ]

    public func statementEnded(_ statement: CoordinationStatement, duration: Duration, failure: CoordinationFailure?) {
        if let failure {
            counter("coordination", "errors", "Coordination database statements that failed, by statement and failure (not_connected, timed_out, failed).",
                    [("statement", statement.rawValue), ("failure", failure.rawValue)]).increment()
        }
        guard failure != .notConnected else { return }  // nothing was sent
        registry.makeDurationHistogram(
            descriptor: Self.name("coordination", "statement_duration", "seconds",
                                  "Coordination database statement latency, sent to answered (or failed), by statement."),
            labels: [("statement", statement.rawValue)], buckets: Self.statementBuckets
        ).record(duration)
    }

    public func connectionChanged(available: Bool) {
        gauge("coordination", "connected", "", "1 while the server is connected to its coordination database (requests start only then), else 0.", [])
            .set(available ? 1.0 : 0.0)
    }

    public func granted(_ grant: QuotaGrant) {
        let answer = switch grant {
        case .start: "start"
        case .wait: "wait"
        case .cooling: "cooling"
        case .dailyQuotaSpent: "spent"
        }
        counter("coordination", "grants", "Answers of the coordination database to request starts: start (reserved), wait (ask again), cooling (after a 429), spent (daily quota).",
                [("answer", answer)]).increment()
    }

    public func withdrew(_ withdrawal: StartWithdrawal) {
        let reason = switch withdrawal {
        case .unavailable: "unavailable"
        case .cooling: "cooling"
        case .dailyQuotaSpent: "spent"
        }
        counter("coordination", "withdrawn_starts", "Starts reserved ahead that did not go when due: the database lost since (unavailable), another server's 429 heard (cooling) or spent daily quota (spent).",
                [("reason", reason)]).increment()
    }
}
