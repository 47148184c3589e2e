internal import CImageGenWire

/// One event of a job's stream, answered by StartGeneration and WatchJob (`imagegen.v1.ProgressEvent`).
public struct ProgressEvent: WireMessage {
    /// What happened (the `kind` oneof).
    public enum Kind: Sendable, Equatable {
        /// The job was accepted (the first event).
        case accepted(JobAccepted)
        /// A beat changed state.
        case beat(BeatEvent)
        /// A style's progress changed.
        case style(StyleProgress)
        /// A key changed state.
        case key(KeyEvent)
        /// A human-readable note.
        case message(String)
        /// The job finished (the last event).
        case finished(JobFinished)
    }

    /// 1, 2, 3, … per job, no gaps.
    public var seq: UInt64
    /// The job.
    public var jobID: String
    /// When it happened, in milliseconds since 1970.
    public var timeUnixMs: Int64
    /// nil when the event carries nothing (a peer running a newer protocol, or a broken one).
    public var kind: Kind?

    public init(seq: UInt64 = 0, jobID: String = "", timeUnixMs: Int64 = 0, kind: Kind? = nil) {
        self.seq = seq
        self.jobID = jobID
        self.timeUnixMs = timeUnixMs
        self.kind = kind
    }

    public init(serializedBytes bytes: [UInt8], limits: DecodeLimits) throws {
        try self.init(unpacking: bytes, limits: limits, name: "ProgressEvent")
    }

    public func serializedBytes() -> [UInt8] { packedBytes() }
}

extension ProgressEvent: ProtobufCConvertible {
    typealias CMessage = Imagegen__V1__ProgressEvent

    static func initialize(_ message: UnsafeMutablePointer<CMessage>) { imagegen__v1__progress_event__init(message) }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.seq = seq
        c.pointee.job_id = arena.string(jobID)
        c.pointee.time_unix_ms = timeUnixMs
        switch kind {
        case nil:
            c.pointee.kind_case = IMAGEGEN__V1__PROGRESS_EVENT__KIND__NOT_SET
        case .accepted(let accepted):
            c.pointee.kind_case = IMAGEGEN__V1__PROGRESS_EVENT__KIND_ACCEPTED
            c.pointee.accepted = arena.message(accepted)
        case .beat(let beat):
            c.pointee.kind_case = IMAGEGEN__V1__PROGRESS_EVENT__KIND_BEAT
            c.pointee.beat = arena.message(beat)
        case .style(let style):
            c.pointee.kind_case = IMAGEGEN__V1__PROGRESS_EVENT__KIND_STYLE
            c.pointee.style = arena.message(style)
        case .key(let key):
            c.pointee.kind_case = IMAGEGEN__V1__PROGRESS_EVENT__KIND_KEY
            c.pointee.key = arena.message(key)
        case .message(let message):
            c.pointee.kind_case = IMAGEGEN__V1__PROGRESS_EVENT__KIND_MESSAGE
            c.pointee.message = arena.string(message)
        case .finished(let finished):
            c.pointee.kind_case = IMAGEGEN__V1__PROGRESS_EVENT__KIND_FINISHED
            c.pointee.finished = arena.message(finished)
        }
    }

    init(c: CMessage) throws {
        seq = c.seq
        jobID = try CField.string(c.job_id, "ProgressEvent.job_id")
        timeUnixMs = c.time_unix_ms
        switch c.kind_case {
        case IMAGEGEN__V1__PROGRESS_EVENT__KIND_ACCEPTED:
            kind = .accepted(try CField.message(c.accepted, as: JobAccepted.self) ?? JobAccepted())
        case IMAGEGEN__V1__PROGRESS_EVENT__KIND_BEAT:
            kind = .beat(try CField.message(c.beat, as: BeatEvent.self) ?? BeatEvent())
        case IMAGEGEN__V1__PROGRESS_EVENT__KIND_STYLE:
            kind = .style(try CField.message(c.style, as: StyleProgress.self) ?? StyleProgress())
        case IMAGEGEN__V1__PROGRESS_EVENT__KIND_KEY:
            kind = .key(try CField.message(c.key, as: KeyEvent.self) ?? KeyEvent())
        case IMAGEGEN__V1__PROGRESS_EVENT__KIND_MESSAGE:
            kind = .message(try CField.string(c.message, "ProgressEvent.message"))
        case IMAGEGEN__V1__PROGRESS_EVENT__KIND_FINISHED:
            kind = .finished(try CField.message(c.finished, as: JobFinished.self) ?? JobFinished())
        default:
            kind = nil
        }
    }
}
