/// How a style or a job ended.
public enum JobOutcome: String, Sendable, Equatable {
    /// Every beat is done.
    case completed
    /// Finished, but some beats (or whole styles) failed.
    case completedWithErrors
    /// Nothing could be done (every style failed).
    case failed
    /// Stopped by cancellation; what is done is kept and a rerun resumes.
    case cancelled
}
