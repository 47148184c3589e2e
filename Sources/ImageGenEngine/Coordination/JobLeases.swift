public import Foundation

/// Makes each project's job one across the servers that share a projects root (issue 13): a job
/// is owned through a lease on its project (project → job id and server id), renewed by the
/// owner's heartbeat. When the owner stops renewing (it died), another server takes the expired
/// lease and resumes the job from its progress files, under the same id, its seqs beyond every
/// seq the lease recorded. Without one, a server's jobs are its own (``ProjectLock`` keeps two
/// servers on one host apart).
///
/// Every method throws ``CoordinationUnavailable`` when the database cannot answer: no job is
/// started or taken over then, and a running job's owner keeps it until its lease would have
/// expired.
public protocol JobLeases: Sendable {
    /// Takes the lease of `lease.project` for `lease.jobID`. Starting a job (`resuming` false),
    /// the lease is taken unless another server holds it unexpired. Resuming a job after a
    /// restart, it is taken only while it is still that job's, unfinished, and this server's or
    /// expired; otherwise ``JobLeaseClaim/held(_:)`` tells whose it is (finished, maybe).
    func claim(_ lease: JobLease, resuming: Bool, for duration: Duration) async throws(CoordinationUnavailable) -> JobLeaseClaim

    /// Extends the leases of `owner`'s jobs (job id → the highest seq each run may issue) by
    /// `duration`; returns, for each job whose lease `owner` still holds, the highest seq recorded.
    /// A job missing from the answer was taken over or released: its run must stop.
    func renew(owner: String, seqs: [String: UInt64], for duration: Duration) async throws(CoordinationUnavailable) -> [String: UInt64]

    /// Gives up `jobID`'s lease: `finished` when the job ended for good (it is never taken over),
    /// else the lease expires now (a shutdown: the first server to look takes it over).
    func release(jobID: String, owner: String, finished: Bool) async throws(CoordinationUnavailable)

    /// Takes up to `limit` expired leases of unfinished jobs for `owner`, each by one server only.
    func takeExpired(owner: String, for duration: Duration, limit: Int) async throws(CoordinationUnavailable) -> [JobLease]

    /// The lease of job `jobID`, if the database has one (finished or not).
    func lease(ofJob jobID: String) async throws(CoordinationUnavailable) -> JobLease?

    /// The live lease of `project` (unfinished, unexpired), if there is one.
    func lease(ofProject project: String) async throws(CoordinationUnavailable) -> JobLease?

    /// Records that server `server` is alive and reached at `address` (HOST:PORT; nil: not known
    /// yet), so that the others can forward calls for its jobs to it, and that the process
    /// `instance` holds the id for `holdFor` (its lease duration): unless another instance holds
    /// it still (then nothing changes, and ``ServerRegistration/heldByAnother(address:seenAgo:heldFor:)``
    /// says where that one runs). Two live processes never share a server id: they would share
    /// its leases, and run (and bill) the same jobs twice.
    func register(server: String, instance: String, address: String?, holdFor: Duration) async throws(CoordinationUnavailable) -> ServerRegistration

    /// Gives up `instance`'s hold on server id `server` (a shutdown), so that the server started
    /// next with that id registers at once; changes nothing when another instance holds it.
    func unregister(server: String, instance: String) async throws(CoordinationUnavailable)

    /// The servers whose heartbeat came within `window`, and every server that still leases an
    /// unfinished job, by id, at most `limit` of them, each with those jobs.
    func servers(seenWithin window: Duration, limit: Int) async throws(CoordinationUnavailable) -> [ServerRecord]
}

/// A job's lease on its project: who owns it, and enough to resume it.
public struct JobLease: Sendable, Equatable {
    /// The project folder relative to the shared projects root.
    public var project: String
    public var jobID: String
    /// The server id of the owner (`--server-id`).
    public var owner: String
    /// The StartGenerationRequest as protobuf bytes, normalised (storyboard inline).
    public var request: Data
    /// The highest seq the owner's run may issue: a taker's run starts after it.
    public var seqReservedThrough: UInt64
    /// When the lease ends unless renewed (database clock).
    public var expiresAt: Date
    /// The job ended for good: its lease is never taken over.
    public var finished: Bool
    /// Where the owner's clients reach it (HOST:PORT), as its heartbeat last said; nil when unknown.
    public var ownerAddress: String?

    public init(
        project: String, jobID: String, owner: String, request: Data, seqReservedThrough: UInt64,
        expiresAt: Date = Date(), finished: Bool = false, ownerAddress: String? = nil
    ) {
        self.project = project
        self.jobID = jobID
        self.owner = owner
        self.request = request
        self.seqReservedThrough = seqReservedThrough
        self.expiresAt = expiresAt
        self.finished = finished
        self.ownerAddress = ownerAddress
    }
}

/// What ``JobLeases/claim(_:for:)`` answers.
public enum JobLeaseClaim: Sendable, Equatable {
    /// The lease is the caller's; its run may issue seqs through `seqReservedThrough`.
    case claimed(seqReservedThrough: UInt64)
    /// The project's lease is not the caller's to take: another server holds it unexpired, or
    /// (resuming) it is another job's, or the job finished.
    case held(JobLease)
}

/// What ``JobLeases/register(server:instance:address:holdFor:)`` answers.
public enum ServerRegistration: Sendable, Equatable {
    /// The server id is the caller's instance's; its heartbeat is recorded.
    case registered
    /// Another process holds the server id for `heldFor` more unless its heartbeat renews it (as
    /// long as that process's own lease duration said): its heartbeat came `seenAgo` ago, from a
    /// server reached at `address` (nil when it did not say, or when the database could not tell).
    case heldByAnother(address: String?, seenAgo: Duration, heldFor: Duration)
}
