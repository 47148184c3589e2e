internal import CImageGenWire

/// A job's state, the answer of GetStatus, CancelGeneration, PauseGeneration and ResumeGeneration
/// (`imagegen.v1.JobStatus`).
public struct JobStatus: WireMessage {
    /// The job.
    public var jobID: String
    /// The job's project.
    public var projectDir: String
    /// Where the job is in its life.
    public var state: JobState
    /// Progress per style.
    public var styles: [StyleProgress]
    /// A human-readable note, e.g. why the job failed.
    public var message: String
    /// The sequence number of the job's last event.
    public var lastSeq: UInt64
    /// When the job was created, in milliseconds since 1970.
    public var createdUnixMs: Int64
    /// When the job started running; 0 if it has not.
    public var startedUnixMs: Int64
    /// When the job finished; 0 if it has not.
    public var finishedUnixMs: Int64
    /// What the job spent. Absent on the wire reads as `Usage()`; sent only when it differs from `Usage()`.
    public var usage: Usage
    /// Every beat's status, only when `includeBeats` was asked.
    public var beats: [BeatStatus]
    /// Set while the answering server cannot coordinate, so that no request of its jobs starts:
    /// its coordination database does not answer (why), or its server id is another server's.
    public var coordinationProblem: String

    public init(
        jobID: String = "", projectDir: String = "", state: JobState = .unspecified, styles: [StyleProgress] = [],
        message: String = "", lastSeq: UInt64 = 0, createdUnixMs: Int64 = 0, startedUnixMs: Int64 = 0,
        finishedUnixMs: Int64 = 0, usage: Usage = Usage(), beats: [BeatStatus] = [],
        coordinationProblem: String = ""
    ) {
        self.jobID = jobID
        self.projectDir = projectDir
        self.state = state
        self.styles = styles
        self.message = message
        self.lastSeq = lastSeq
        self.createdUnixMs = createdUnixMs
        self.startedUnixMs = startedUnixMs
        self.finishedUnixMs = finishedUnixMs
        self.usage = usage
        self.beats = beats
        self.coordinationProblem = coordinationProblem
    }

    public init(serializedBytes bytes: [UInt8], limits: DecodeLimits) throws {
        try self.init(unpacking: bytes, limits: limits, name: "JobStatus")
    }

    public func serializedBytes() -> [UInt8] { packedBytes() }
}

extension JobStatus: ProtobufCConvertible {
    typealias CMessage = Imagegen__V1__JobStatus

    static func initialize(_ message: UnsafeMutablePointer<CMessage>) { imagegen__v1__job_status__init(message) }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.job_id = arena.string(jobID)
        c.pointee.project_dir = arena.string(projectDir)
        c.pointee.state = state.cValue()
        (c.pointee.n_styles, c.pointee.styles) = arena.messages(styles)
        c.pointee.message = arena.string(message)
        c.pointee.last_seq = lastSeq
        c.pointee.created_unix_ms = createdUnixMs
        c.pointee.started_unix_ms = startedUnixMs
        c.pointee.finished_unix_ms = finishedUnixMs
        c.pointee.usage = arena.message(usage, unlessEqualTo: Usage())
        (c.pointee.n_beats, c.pointee.beats) = arena.messages(beats)
        c.pointee.coordination_problem = arena.string(coordinationProblem)
    }

    init(c: CMessage) throws {
        jobID = try CField.string(c.job_id, "JobStatus.job_id")
        projectDir = try CField.string(c.project_dir, "JobStatus.project_dir")
        state = try JobState(c: c.state, "JobStatus.state")
        styles = try CField.messages(c.n_styles, c.styles, as: StyleProgress.self)
        message = try CField.string(c.message, "JobStatus.message")
        lastSeq = c.last_seq
        createdUnixMs = c.created_unix_ms
        startedUnixMs = c.started_unix_ms
        finishedUnixMs = c.finished_unix_ms
        usage = try Usage.decoded(c.usage)
        beats = try CField.messages(c.n_beats, c.beats, as: BeatStatus.self)
        coordinationProblem = try CField.string(c.coordination_problem, "JobStatus.coordination_problem")
    }
}
