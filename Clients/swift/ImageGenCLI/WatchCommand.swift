public import ArgumentParser
import ImageGenWire

/// `imagegen watch JOB [--after SEQ]`: follows a job's events with live bars (or lines).
public struct WatchCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "watch", abstract: "Follow a job's progress; Ctrl-C detaches, the job goes on.")

    @OptionGroup public var client: ClientOptions

    @Argument(help: "The job id.")
    public var job: String

    @Option(
        name: .long,
        help: "Replay events after this sequence number (0: from the start of the job's current run). A seq from before a server restart follows the current run from its start.")
    public var after: UInt64 = 0

    @Flag(name: .long, help: "Print events as JSON lines.")
    public var json = false

    public init() {}

    public func run() async throws {
        let connection = try await client.connect()
        defer { connection.close() }
        let follower = EventFollower(client: connection, mode: .choose(json: json), reconnect: client.connector)
        let (ending, _) = try await follower.follow(
            try await connection.watchJob(job, afterSeq: after), watched: (jobID: job, afterSeq: after))
        try ending.exit()
    }
}
