public import Foundation

/// A server that shares the coordination database, as the database last heard of it: its id,
/// where its clients reach it, when its heartbeat last came, and the unfinished jobs it leases.
public struct ServerRecord: Sendable, Equatable {
    /// The server id (`--server-id`).
    public var id: String
    /// HOST:PORT its clients reach it at; nil when it has not said.
    public var address: String?
    /// When its heartbeat last came (database clock); nil when it holds leases but never registered.
    public var seenAt: Date?
    /// The unfinished jobs it leases (live or expired, not yet taken over), by project.
    public var jobs: [JobLease]

    public init(id: String, address: String?, seenAt: Date?, jobs: [JobLease]) {
        self.id = id
        self.address = address
        self.seenAt = seenAt
        self.jobs = jobs
    }
}
