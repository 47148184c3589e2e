public import Foundation
public import ImageGenEngine

/// How the generation service keeps and shares jobs. Every field has a default but the roots.
public struct ServiceConfiguration: Sendable {
    /// Every project a client names must lie under this folder (the state directory, if it lies
    /// under it, is never a project).
    public var projectsRoot: ProjectsRoot
    /// Where the service keeps what it must remember across restarts (the jobs that were running).
    public var stateDirectory: URL
    /// Resume the jobs that were running when the server stopped or crashed.
    public var resumeJobsOnStart: Bool
    /// Events kept per job for replay (WatchJob with an older after_seq answers OUT_OF_RANGE).
    public var eventRetention: Int
    /// Events a watcher may fall behind before its stream ends with RESOURCE_EXHAUSTED.
    public var watcherBuffer: Int
    /// Finished jobs kept in memory for WatchJob, GetStatus and ListJobs.
    public var finishedJobsKept: Int
    /// How often at most a watcher's stream writes: events published within this interval of a
    /// write go out together in the next one. Zero writes every event at once.
    public var eventFlushInterval: Duration
    /// Seqs reserved at a time for a running job in the state file (rewritten when half are used):
    /// a job resumed after a restart or crash continues after its reservation, so its seqs never
    /// repeat. Larger means fewer state-file writes and bigger seq gaps across restarts.
    public var seqReservation: UInt64
    /// Caps on a storyboard sent in a request (beats, prompt bytes).
    public var storyboardLimits: StoryboardLimits
    /// Told of every engine event of every job as the service receives it (for metrics); nil tells no one.
    public var engineEventObserver: (@Sendable (_ jobID: String, _ event: EngineEvent) -> Void)?
    /// The job leases shared with the other servers on the projects root (issue 13); nil: this
    /// server's jobs are its own.
    public var leases: (any JobLeases)?
    /// Why the coordination database cannot be used now (nil when it can): told in GetStatus and
    /// ListServers answers (``JobStatus/coordinationProblem``).
    public var coordinationProblem: (@Sendable () -> String?)?
    /// This server's id among those sharing ``leases`` (unique among them).
    public var serverID: String = "imagegen"
    /// How long a job's lease lasts unless renewed: another server takes a job over at most this
    /// long (and a heartbeat, a third of it) after its owner stopped renewing.
    public var leaseDuration: Duration = .seconds(15)
    /// The token this server sends when it forwards a call for a job another server runs
    /// (``leases``): servers that share a database share their `IMAGEGEN_AUTH_TOKEN`.
    public var forwardingToken: String?

    public init(
        projectsRoot: ProjectsRoot, stateDirectory: URL, resumeJobsOnStart: Bool = true, eventRetention: Int = 50_000,
        watcherBuffer: Int = 4_096, finishedJobsKept: Int = 100, eventFlushInterval: Duration = .milliseconds(50),
        seqReservation: UInt64 = 10_000, storyboardLimits: StoryboardLimits = .unlimited
    ) {
        self.projectsRoot = projectsRoot.excluding(stateDirectory)
        self.stateDirectory = stateDirectory
        self.resumeJobsOnStart = resumeJobsOnStart
        self.eventRetention = eventRetention
        self.watcherBuffer = watcherBuffer
        self.finishedJobsKept = finishedJobsKept
        self.eventFlushInterval = eventFlushInterval
        self.seqReservation = max(1, seqReservation)
        self.storyboardLimits = storyboardLimits
    }
}
