import Foundation
import ImageGenEngine
import ImageGenRPC
import ImageGenService
import Logging

/// An in-process generation server for the `rpc` and `load` scenarios: `RPCServer` +
/// `GenerationService` + `JobManager` over an offline engine, in a fresh directory. Clients and
/// server share this process and its cores.
struct BenchServer {
    var offline: OfflineSettings
    var eventRetention = 50_000
    var watcherBuffer = 4_096
    var eventFlushInterval = Duration.milliseconds(50)

    /// Starts the server, creates `projects` under its projects root, runs `body` with its port,
    /// then stops the server and removes the directory.
    func run<Result: Sendable>(
        label: String, projects: [String], _ body: @escaping @Sendable (_ port: Int) async throws -> Result
    ) async throws -> Result {
        var logger = Logger(label: "imagegen-bench")
        logger.logLevel = .critical
        let directory = try BenchDirectory(label)
        defer { directory.remove() }
        let root = try directory.subdirectory("projects")
        for project in projects { _ = try directory.subdirectory("projects/\(project)") }
        let engine = ImageEngine(configuration: EngineConfiguration(durability: .none, offline: offline), logger: logger)
        let jobs = JobManager(
            configuration: ServiceConfiguration(
                projectsRoot: try ProjectsRoot(path: root.path), stateDirectory: directory.url.appendingPathComponent("state"),
                resumeJobsOnStart: false, eventRetention: eventRetention, watcherBuffer: watcherBuffer,
                eventFlushInterval: eventFlushInterval),
            engine: engine, logger: logger)
        var router = RPCRouter()
        GenerationService(jobs: jobs).register(into: &router)
        // Every watcher of the load benchmark connects from 127.0.0.1 (up to 1,000 of them).
        let server = RPCServer(configuration: RPCServerConfiguration(maxConnectionsPerAddress: 1_024), router: router, logger: logger)
        return try await withThrowingTaskGroup(of: Result?.self) { group in
            group.addTask {
                try await jobs.run()
                return nil
            }
            group.addTask {
                try await server.run()
                return nil
            }
            do {
                let result = try await body(try await server.listeningAddress.port)
                group.cancelAll()
                return result
            } catch {
                group.cancelAll()
                throw error
            }
        }
    }
}
