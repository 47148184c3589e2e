import Foundation
import ImageGenClient
import ImageGenEngine
import ImageGenRPC
import ImageGenService
import ImageGenWire
import Logging
import Testing

/// A projects root and state directory in a fresh temporary folder, removed at the end.
struct ServiceSandbox {
    let base: URL
    var root: URL { base.appendingPathComponent("projects") }
    var state: URL { base.appendingPathComponent("state") }

    init() throws {
        base = FileManager.default.temporaryDirectory.appendingPathComponent("imagegen-service-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: base.appendingPathComponent("projects"), withIntermediateDirectories: true)
    }

    /// Makes a project folder, optionally with a storyboard.json.
    @discardableResult
    func project(_ name: String, storyboard: String? = nil) throws -> URL {
        let url = root.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        if let storyboard { try Data(storyboard.utf8).write(to: url.appendingPathComponent("storyboard.json")) }
        return url
    }

    func remove() { try? FileManager.default.removeItem(at: base) }
}

/// A storyboard of `shots` × `beats`, with hard cuts and continuity.
func sampleStoryboard(shots: Int, beats: Int, prompt: String = "a lighthouse at dusk") -> Storyboard {
    Storyboard(
        shots: (1...shots).map { shot in
            Shot(
                id: "\(shot)",
                beats: (1...beats).map { beat in
                    Beat(
                        id: "\(shot).\(beat)", prompt: "\(prompt), shot \(shot) beat \(beat)",
                        transition: beat == 1 ? .hardCut : (beat % 2 == 0 ? .continue : .cut))
                })
        })
}

/// Runs the generation service on a real loopback server for the duration of `body`.
func withGenerationServer<R: Sendable>(
    _ sandbox: ServiceSandbox, latency: Duration = .milliseconds(20), watcherBuffer: Int = 4_096,
    resume: Bool = true, durability: EngineConfiguration.Durability = .full, seqReservation: UInt64 = 10_000,
    _ body: (ImageGenerationClient, Int) async throws -> R
) async throws -> R {
    var logger = Logger(label: "test-service")
    logger.logLevel = .critical
    let engineConfiguration = EngineConfiguration(
        durability: durability, offline: OfflineSettings(width: 32, height: 18, latency: latency, concurrency: 4))
    let engine = ImageEngine(configuration: engineConfiguration, logger: logger)
    let jobs = JobManager(
        configuration: ServiceConfiguration(
            projectsRoot: try ProjectsRoot(path: sandbox.root.path), stateDirectory: sandbox.state,
            resumeJobsOnStart: resume, watcherBuffer: watcherBuffer, seqReservation: seqReservation),
        engine: engine, logger: logger)
    var router = RPCRouter()
    GenerationService(jobs: jobs).register(into: &router)
    let server = RPCServer(configuration: RPCServerConfiguration(), router: router, logger: logger)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await jobs.run() }
        group.addTask { try await server.run() }
        let port = try await server.listeningAddress.port
        let client = try await ImageGenerationClient.connect(host: "127.0.0.1", port: port)
        defer {
            client.close()
            group.cancelAll()
        }
        return try await body(client, port)
    }
}

/// Collects a stream's events to its end.
func collect(_ stream: RPCResponseStream<ProgressEvent>) async throws -> [ProgressEvent] {
    var events: [ProgressEvent] = []
    for try await event in stream { events.append(event) }
    return events
}

/// Asserts seqs are consecutive from `first`.
func expectConsecutive(_ events: [ProgressEvent], from first: UInt64, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(events.map(\.seq) == Array(first..<first + UInt64(events.count)), sourceLocation: sourceLocation)
}

func finished(_ events: [ProgressEvent]) -> JobFinished? {
    guard case .finished(let finished)? = events.last?.kind else { return nil }
    return finished
}

@discardableResult
func expectCode(_ code: RPCError.Code, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void) async -> RPCError? {
    do {
        try await body()
        Issue.record("expected \(code)", sourceLocation: sourceLocation)
    } catch let error as RPCError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected \(code), got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}
