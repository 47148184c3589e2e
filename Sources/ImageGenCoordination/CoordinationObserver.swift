public import ImageGenEngine

/// Told what the coordination database does, as it happens: each statement's latency and
/// failures, the connection coming and going, and each quota grant's answer (what /metrics shows
/// of coordination, ``CoordinationDatabase/observer``). Called from the statement's task: it
/// must not block.
public protocol CoordinationObserver: Sendable {
    /// `statement` ended after `duration` (from asking for the connection to its answer), with
    /// `failure` when it did not succeed.
    func statementEnded(_ statement: CoordinationStatement, duration: Duration, failure: CoordinationFailure?)

    /// The connection was opened and migrated (`true`), or lost or not made (`false`); told
    /// `false` first, as the database is made.
    func connectionChanged(available: Bool)

    /// A request start was answered `grant`.
    func granted(_ grant: QuotaGrant)

    /// A start reserved ahead did not go when it came due, for `withdrawal`.
    func withdrew(_ withdrawal: StartWithdrawal)
}

/// The statements a server runs on the coordination database, one label value each.
public enum CoordinationStatement: String, Sendable, CaseIterable {
    /// ``PostgresQuotaCoordinator/grant(_:spacing:)``: one request start.
    case grant
    /// A 429's cool-down.
    case cool
    /// The limit a 429 stated.
    case learn
    /// A spent daily quota.
    case markSpent = "mark_spent"
    /// Claiming (or taking over) a project's lease.
    case claimLease = "claim_lease"
    /// The heartbeat renewing this server's leases.
    case renewLeases = "renew_leases"
    /// Giving a lease back (the job ended or the server stops).
    case releaseLease = "release_lease"
    /// Taking the expired leases of dead servers.
    case takeExpired = "take_expired"
    /// Reading a lease (who runs a job or a project).
    case readLease = "read_lease"
    /// Recording this server's heartbeat and address (and its process's hold on the server id).
    case register
    /// Giving up the server id as the server stops.
    case unregister
    /// ListServers.
    case listServers = "list_servers"
    /// Anything else (a tool's or a test's statement).
    case other
}

/// How a coordination statement failed, one label value each.
public enum CoordinationFailure: String, Sendable, CaseIterable {
    /// There was no connection to run it on.
    case notConnected = "not_connected"
    /// It did not answer within the statement timeout (the connection was dropped).
    case timedOut = "timed_out"
    /// The database answered an error, or the connection closed under it.
    case failed
}
