public import ArgumentParser
import Foundation
import ImageGenClient
import ImageGenWire

/// `imagegen generate STORYBOARD.json --project DIR`: starts a job (or attaches to the one running
/// the same storyboard) and follows it with live bars; Ctrl-C detaches, the job goes on.
public struct GenerateCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "generate", abstract: "Render a storyboard in every style and follow the progress.")

    @OptionGroup public var client: ClientOptions

    @Argument(help: "The storyboard JSON file: {\"shots\":[{\"id\":\"1\",\"beats\":[{\"id\":\"1.1\",\"prompt\":\"…\",\"transition\":\"hard_cut\"}]}]}.")
    public var storyboard: String

    @Option(name: .long, help: "The project directory, under the server's projects root.")
    public var project: String

    @Option(name: .long, help: "Comma-separated styles (default: every configured style).")
    public var styles: String?

    @Flag(name: .long, help: "Regenerate every beat, even those already done.")
    public var force = false

    @Option(name: .long, help: "At most this many requests in flight for this job (0: the server's default).")
    public var maxConcurrency: UInt32 = 0

    @Option(name: .long, help: "online, batch or auto: how this job's beats are sent (default: each style's configured delivery).")
    public var delivery: String?

    @Option(name: .long, help: "Seconds after the start by which this job's batches must be done (default: each style's batchDeadlineSeconds).")
    public var batchDeadline: Double?

    @Option(name: .long, help: "An idempotency key: repeating a start with it attaches to the same job.")
    public var requestID: String = ""

    @Flag(name: .long, help: "Start the job and return at once.")
    public var detach = false

    @Flag(name: .long, help: "Print events as JSON lines.")
    public var json = false

    public init() {}

    public func validate() throws {
        _ = try Self.delivery(delivery)
        if let batchDeadline, !(batchDeadline.isFinite && batchDeadline > 0) {
            throw ValidationError("--batch-deadline: must be a number of seconds above 0, not \(batchDeadline)")
        }
    }

    /// The wire's delivery for `--delivery`.
    static func delivery(_ text: String?) throws -> Delivery {
        switch text {
        case nil: .unspecified
        case "online": .online
        case "batch": .batch
        case "auto": .auto
        case let other?: throw ValidationError("--delivery: must be online, batch or auto, not \(EventFormatter.quoted(other))")
        }
    }

    public func run() async throws {
        let board: Storyboard
        do {
            board = try StoryboardFile.load(contentsOf: URL(fileURLWithPath: storyboard))
        } catch {
            throw ValidationError(error.description)
        }
        let selected = styles.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? []
        let request = StartGenerationRequest(
            projectDir: project, storyboard: board, styles: selected,
            options: GenerationOptions(
                force: force, maxConcurrency: maxConcurrency, delivery: try Self.delivery(delivery),
                batchDeadlineSeconds: batchDeadline ?? 0),
            detach: detach, requestID: requestID)
        let connection = try await client.connect()
        defer { connection.close() }
        let follower = EventFollower(client: connection, mode: .choose(json: json), reconnect: client.connector)
        let (ending, _) = try await follower.follow(try await connection.startGeneration(request))
        try ending.exit()
    }
}
