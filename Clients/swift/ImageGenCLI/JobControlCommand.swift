public import ArgumentParser
import ImageGenClient
import ImageGenWire

/// `imagegen cancel|pause|resume JOB`: one command type for the three job controls.
public struct JobControlCommand: AsyncParsableCommand {
    /// Which control.
    public enum Action: String, Sendable { case cancel, pause, resume }

    public static let configuration = CommandConfiguration(commandName: "job-control", shouldDisplay: false)

    @OptionGroup public var client: ClientOptions

    @Argument(help: "The job id.")
    public var job: String

    @Flag(name: .long, help: "Print JSON.")
    public var json = false

    public init() {}

    /// Runs `action` on the job and prints its status.
    public func perform(_ action: Action) async throws {
        let connection = try await client.connect()
        defer { connection.close() }
        let status: JobStatus
        switch action {
        case .cancel: status = try await connection.cancelGeneration(job)
        case .pause: status = try await connection.pauseGeneration(job)
        case .resume: status = try await connection.resumeGeneration(job)
        }
        writeToStandardOutput((json ? EventFormatter.jsonLine(status) : StatusText.describe(status)) + "\n")
    }
}

/// `imagegen cancel JOB`.
public struct CancelCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Stop a job (what is done stays done).")
    @OptionGroup public var options: JobControlCommand
    public init() {}
    public func run() async throws { try await options.perform(.cancel) }
}

/// `imagegen pause JOB`.
public struct PauseCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "pause", abstract: "Stop starting new requests for a job.")
    @OptionGroup public var options: JobControlCommand
    public init() {}
    public func run() async throws { try await options.perform(.pause) }
}

/// `imagegen resume JOB`.
public struct ResumeCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "resume", abstract: "Let a paused job go on.")
    @OptionGroup public var options: JobControlCommand
    public init() {}
    public func run() async throws { try await options.perform(.resume) }
}
