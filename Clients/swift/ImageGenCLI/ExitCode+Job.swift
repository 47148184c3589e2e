public import ArgumentParser
public import ImageGenWire

extension ExitCode {
    /// Some beats failed; the rest are done.
    public static let completedWithErrors = ExitCode(2)
    /// The job failed as a whole (e.g. every style's keys were bad).
    public static let jobFailed = ExitCode(3)
    /// The job was cancelled.
    public static let jobCancelled = ExitCode(4)
    /// The command stopped following (Ctrl-C); the job goes on.
    public static let detached = ExitCode(130)

    /// The exit code for a job that ended in `state`.
    public static func forJob(_ state: JobState) -> ExitCode {
        switch state {
        case .completed: .success
        case .completedWithErrors: .completedWithErrors
        case .cancelled: .jobCancelled
        default: .jobFailed
        }
    }
}
