import FakeGemini
import Foundation
import ImageGenEngine
import ImageGenGemini
import Logging

/// Runs one engine job with the real `GeminiProvider` against an in-process `FakeGeminiServer`,
/// then shuts both down and removes the project directory.
struct GeminiRun: Sendable {
    /// The fake's configuration (its keys, pace limit and window, latency).
    var fake: FakeGeminiConfiguration
    /// The styles, with their keys and pace; their base URL is pointed at the fake.
    var styles: [StyleConfiguration]
    var storyboard: ValidatedStoryboard
    /// The job's in-flight cap across styles; nil for none.
    var maxConcurrentRequests: Int?
    /// The engine's `paceMarginPercent`.
    var paceMarginPercent = EngineConfiguration().paceMarginPercent
    /// The limits the engine starts from and keeps what it learns in.
    var learnedLimits = LearnedLimits()

    func run(logger: Logger) async throws -> GeminiRunResult {
        let directory = try BenchDirectory("gemini")
        defer { directory.remove() }
        let project = try directory.subdirectory("project")
        let server = FakeGeminiServer(configuration: fake, logger: logger)
        let port: Int
        do {
            port = try await server.start()
        } catch {
            try? await server.shutdown()
            throw error
        }
        let baseURL = "http://127.0.0.1:\(port)"
        let provider: GeminiProvider
        do {
            provider = try GeminiProvider(configuration: GeminiConfiguration(baseURL: baseURL), logger: logger)
        } catch {
            try? await server.shutdown()
            throw error
        }
        do {
            let result = try await runJob(project: project, baseURL: baseURL, provider: provider, server: server, logger: logger)
            await provider.shutdown()
            try await server.shutdown()
            return result
        } catch {
            await provider.shutdown()
            try? await server.shutdown()
            throw error
        }
    }

    private func runJob(
        project: URL, baseURL: String, provider: GeminiProvider, server: FakeGeminiServer, logger: Logger
    ) async throws -> GeminiRunResult {
        var configured = styles
        for index in configured.indices { configured[index].baseURL = baseURL }
        let configuration = EngineConfiguration(
            styles: configured, maxConcurrentRequests: maxConcurrentRequests, durability: .none,
            paceMarginPercent: paceMarginPercent)
        let engine = ImageEngine(configuration: configuration, logger: logger, learnedLimits: learnedLimits) { _ in provider }
        let job = try engine.makeJob(storyboard: storyboard, project: project)
        let clock = ContinuousClock()
        let start = clock.now
        let (offsets, failed, summary) = await withTaskGroup(of: ([Duration], Int, JobSummary?).self) { group in
            group.addTask {
                var offsets: [Duration] = []
                var failed = 0
                for await event in job.events {
                    if case .beat(let beat) = event {
                        if beat.state == .done { offsets.append(clock.now - start) }
                        if beat.state == .failed { failed += 1 }
                    }
                }
                return (offsets, failed, nil)
            }
            group.addTask { ([], 0, await job.run()) }
            var offsets: [Duration] = []
            var failed = 0
            var summary: JobSummary?
            for await (someOffsets, someFailed, someSummary) in group {
                offsets += someOffsets
                failed += someFailed
                if let someSummary { summary = someSummary }
            }
            return (offsets, failed, summary)
        }
        let wall = summary?.duration ?? (clock.now - start)
        return GeminiRunResult(
            doneOffsets: offsets, failed: failed, wall: wall, state: summary?.state ?? .failed,
            requestLog: server.requestLog(), spend: summary?.styles.map(\.spend) ?? [], batches: server.batches())
    }
}
