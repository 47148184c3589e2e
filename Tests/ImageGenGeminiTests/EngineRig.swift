import FakeGemini
import Foundation
import ImageGenEngine
import ImageGenTestSupport
import ImageGenGemini
import Logging

/// One test's world for the engine over loopback HTTP: a started `FakeGeminiServer`, a real
/// `GeminiProvider` pointed at it, a fresh temporary project directory and a log recorder.
/// ``with(_:_:)`` shuts the provider and the server down and removes the directory afterwards.
struct EngineRig: Sendable {
    let server: FakeGeminiServer
    let provider: GeminiProvider
    let baseURL: String
    let project: URL
    let recorder: LogRecorder

    /// Fast retries: milliseconds of backoff, the engine's default budgets.
    static let fastRetry = RetryPolicy(
        maxAttempts: 5, maxUnknownOutcomeAttempts: 3, maxRateLimitedAttempts: 50, baseDelay: .milliseconds(5),
        maxDelay: .milliseconds(40))

    static func with<T>(_ fake: FakeGeminiConfiguration, _ body: (EngineRig) async throws -> T) async throws -> T {
        let recorder = LogRecorder()
        let project = FileManager.default.temporaryDirectory
            .appendingPathComponent("imagegen-engine-over-fake-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: project, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: project) }
        let server = FakeGeminiServer(configuration: fake, logger: recorder.logger(label: "fake"))
        let port = try await server.start()
        let baseURL = "http://127.0.0.1:\(port)"
        let provider: GeminiProvider
        do {
            provider = try GeminiProvider(
                configuration: GeminiConfiguration(baseURL: baseURL, connectTimeout: .seconds(2)),
                logger: recorder.logger(label: "gemini"))
        } catch {
            try await server.shutdown()
            throw error
        }
        let rig = EngineRig(server: server, provider: provider, baseURL: baseURL, project: project, recorder: recorder)
        do {
            let result = try await body(rig)
            await provider.shutdown()
            try await server.shutdown()
            return result
        } catch {
            await provider.shutdown()
            try await server.shutdown()
            throw error
        }
    }

    /// A style whose prompts are "<name>: <prompt>" and whose keys are `(secret, project)` pairs.
    func style(
        _ name: String, keys: [(secret: String, project: String)], continuity: Bool = false, rpm: Double? = 0,
        inFlight: Int = 4, timeout: Duration = .seconds(10), retry: RetryPolicy = EngineRig.fastRetry
    ) -> StyleConfiguration {
        StyleConfiguration(
            name: name, promptTemplate: "\(name): {prompt}", continuity: continuity, attachStyleReference: true,
            keys: keys.enumerated().map { offset, key in
                APIKey(secret: key.secret, project: key.project, style: name, index: offset + 1)
            },
            requestsPerMinute: rpm, maxInFlightPerProject: inFlight, baseURL: baseURL, requestTimeout: timeout,
            retry: retry)
    }

    /// An engine over these styles that uses this rig's provider (no fsync: durability is not under test).
    func engine(_ styles: [StyleConfiguration], learnedLimits: LearnedLimits = LearnedLimits()) -> ImageEngine {
        let provider = self.provider
        return ImageEngine(
            configuration: EngineConfiguration(styles: styles, durability: .none),
            logger: recorder.logger(label: "engine"), learnedLimits: learnedLimits
        ) { _ in provider }
    }

    /// Runs a new job to its end, collecting every event.
    func run(_ engine: ImageEngine, _ storyboard: ValidatedStoryboard, options: JobOptions = JobOptions()) async throws
        -> (JobSummary, [EngineEvent])
    {
        await runJob(try engine.makeJob(storyboard: storyboard, project: project, options: options))
    }

    /// The fake's log entries of one style (its prompts start with "<style>: ").
    func log(style: String) -> [FakeGeminiRequestLogEntry] {
        server.requestLog().filter { $0.prompt.hasPrefix("\(style): ") }
    }

    /// Parses a style's JSON progress file (after a job, the journal is folded into it).
    func progress(style: String) throws -> [String: BeatRecord] {
        struct Document: Decodable {
            var version: Int
            var style: String
            var beats: [BeatRecord]
        }
        let data = try Data(contentsOf: ProgressStore.fileURL(project: project, style: style))
        let document = try JSONDecoder().decode(Document.self, from: data)
        guard document.style == style, document.version == 1 else { throw CocoaError(.fileReadCorruptFile) }
        return Dictionary(uniqueKeysWithValues: document.beats.map { ($0.key, $0) })
    }

    /// Where the layout puts a beat's image.
    func imageURL(style: String, shot: String, beat: String) -> URL {
        project.appendingPathComponent("generated_images/\(style)/Shot_\(shot)/Beat_\(beat).png")
    }

    /// "…" + the last 4 characters: how the fake names a key.
    static func fakeLabel(_ secret: String) -> String { "…" + secret.suffix(4) }
}
