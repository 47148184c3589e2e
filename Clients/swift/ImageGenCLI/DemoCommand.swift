public import ArgumentParser
import Foundation
import ImageGenClient
import ImageGenEngine
import ImageGenRPC
import ImageGenService
import ImageGenWire
import Logging

/// `imagegen demo`: the whole product on a fresh machine with no keys and no network. Starts a
/// server with the offline renderer, renders the bundled sample storyboard in all three styles
/// with live bars, writes the contact sheet, and says where everything is.
public struct DemoCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "demo", abstract: "Render the sample storyboard offline in every style, with live progress.")

    @Option(name: .long, help: "The demo project directory (created if missing).")
    public var project: String = "imagegen-demo"

    @Option(name: .long, help: "Milliseconds each offline image takes, so the progress is visible.")
    public var latencyMs: Int = 500

    @Flag(name: .long, help: "Render every beat again, even those done by an earlier demo.")
    public var force = false

    @Flag(name: .long, help: "Print events as JSON lines.")
    public var json = false

    public init() {}

    public func validate() throws {
        guard (0...60_000).contains(latencyMs) else { throw ValidationError("--latency-ms must be from 0 to 60000") }
    }

    public func run() async throws {
        let projectURL = URL(fileURLWithPath: project, isDirectory: true).standardizedFileURL
        try FileManager.default.createDirectory(at: projectURL, withIntermediateDirectories: true)
        let storyboardFile = projectURL.appendingPathComponent("storyboard.json")
        if !FileManager.default.fileExists(atPath: storyboardFile.path) {
            try Data(SampleStoryboard.json.utf8).write(to: storyboardFile, options: .atomic)
        }
        let storyboard = try StoryboardFile.load(contentsOf: storyboardFile)

        var logger = Logger(label: "imagegen-demo")
        logger.logLevel = .error
        // The demo is offline by design: configured keys are not used.
        let engine = ImageEngine(
            configuration: EngineConfiguration(offline: OfflineSettings(latency: .milliseconds(latencyMs))), logger: logger)
        let jobs = JobManager(
            configuration: ServiceConfiguration(
                projectsRoot: try ProjectsRoot(path: projectURL.deletingLastPathComponent().path),
                stateDirectory: projectURL.appendingPathComponent(".imagegen-state"), resumeJobsOnStart: false),
            engine: engine, logger: logger)
        var router = RPCRouter()
        GenerationService(jobs: jobs).register(into: &router)
        let server = RPCServer(configuration: RPCServerConfiguration(host: "127.0.0.1", port: 0), router: router, logger: logger)

        let ending = try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await jobs.run() }
            group.addTask { try await server.run() }
            defer { group.cancelAll() }
            let port = try await server.listeningAddress.port
            writeToStandardOutput("demo server on 127.0.0.1:\(port), offline renderer, project \(projectURL.path)\n")
            let client = try await ImageGenerationClient.connect(host: "127.0.0.1", port: port)
            defer { client.close() }
            let request = StartGenerationRequest(
                projectDir: projectURL.lastPathComponent, storyboard: storyboard,
                options: GenerationOptions(force: force))
            let follower = EventFollower(client: client, mode: .choose(json: json))
            return try await follower.follow(try await client.startGeneration(request)).0
        }
        let styles = StyleConfiguration.defaults.map(\.name)
        let sheet = try await ContactSheet.write(project: projectURL, storyboard: storyboard, styles: styles)
        writeToStandardOutput("""
            images: \(projectURL.path)/generated_images/<style>/Shot_<shot>/Beat_<beat>.png (styles: \(styles.joined(separator: ", ")))
            contact sheet: \(sheet.path)

            """)
        try ending.exit()
    }
}
