/// Where a job is in its life (`imagegen.v1.JobState`).
public enum JobState: Int32, Sendable, Hashable, CaseIterable {
    /// Not set (a peer that sent nothing, or no job).
    case unspecified = 0
    /// Accepted, waiting for a slot.
    case queued = 1
    /// Generating images.
    case running = 2
    /// Paused by PauseGeneration; ResumeGeneration continues it.
    case paused = 3
    /// Every beat of every style is done.
    case completed = 4
    /// Finished, but some beats failed.
    case completedWithErrors = 5
    /// Stopped by an error before finishing.
    case failed = 6
    /// Stopped by CancelGeneration.
    case cancelled = 7
}

extension JobState: ProtobufCEnum {}

extension JobState {
    /// The lower-case name, as in the proto without its prefix: "completed_with_errors".
    public var name: String {
        switch self {
        case .unspecified: "unspecified"
        case .queued: "queued"
        case .running: "running"
        case .paused: "paused"
        case .completed: "completed"
        case .completedWithErrors: "completed_with_errors"
        case .failed: "failed"
        case .cancelled: "cancelled"
        }
    }
}
