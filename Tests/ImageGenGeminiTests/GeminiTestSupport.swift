import FakeGemini
import Foundation
import ImageGenEngine
import ImageGenGemini
import Logging

/// Keys and helpers shared by the loopback tests.
enum GeminiTestSupport {
    static let model = "gemini-3.1-flash-image"
    static let secretA = "AIzaSyTEST-secret-key-AAAA-0001"
    static let secretB = "AIzaSyTEST-secret-key-BBBB-0002"
    static let keyA = APIKey(secret: secretA, project: "project-a", style: "test", index: 1)
    static let keyB = APIKey(secret: secretB, project: "project-b", style: "test", index: 2)
    static let allSecrets = [secretA, secretB]

    static func fakeConfiguration(_ adjust: (inout FakeGeminiConfiguration) -> Void = { _ in }) -> FakeGeminiConfiguration {
        var configuration = FakeGeminiConfiguration(keys: [secretA: "project-a", secretB: "project-b"])
        adjust(&configuration)
        return configuration
    }

    /// Runs `body` with a started fake and a provider pointed at it; shuts both down afterwards.
    static func withFake<T>(
        _ configuration: FakeGeminiConfiguration = fakeConfiguration(),
        provider providerConfiguration: GeminiConfiguration = GeminiConfiguration(),
        recorder: LogRecorder = LogRecorder(),
        _ body: (FakeGeminiServer, GeminiProvider) async throws -> T
    ) async throws -> T {
        let server = FakeGeminiServer(configuration: configuration, logger: recorder.logger(label: "fake"))
        let port = try await server.start()
        var providerConfiguration = providerConfiguration
        providerConfiguration.baseURL = "http://127.0.0.1:\(port)"
        let provider = try GeminiProvider(configuration: providerConfiguration, logger: recorder.logger(label: "gemini"))
        do {
            let result = try await body(server, provider)
            await provider.shutdown()
            try await server.shutdown()
            return result
        } catch {
            await provider.shutdown()
            try await server.shutdown()
            throw error
        }
    }

    static func request(
        _ prompt: String, key: APIKey = keyA, references: [ReferenceImage] = [], aspectRatio: String? = "16:9",
        imageSize: String? = "1K", timeout: Duration = .seconds(10)
    ) -> ImageRequest {
        ImageRequest(
            model: model, prompt: prompt, references: references, aspectRatio: aspectRatio, imageSize: imageSize,
            key: key, timeout: timeout)
    }

    /// Runs the request and returns its failure (nil on success).
    static func failure(of provider: GeminiProvider, _ request: ImageRequest) async -> ProviderFailure? {
        do {
            _ = try await provider.generate(request)
            return nil
        } catch let failure as ProviderFailure {
            return failure
        } catch {
            return .transient(status: nil, message: "unexpected error \(error)", outcomeUnknown: false)
        }
    }

    /// The message inside a failure.
    static func message(of failure: ProviderFailure) -> String {
        switch failure {
        case .rateLimited(let limit):
            return limit.message
        case .keyRejected(_, let message), .badRequest(let message),
            .configuration(_, let message), .transient(_, let message, _), .blocked(_, let message),
            .noImage(_, let message):
            return message
        case .cancelled:
            return ""
        }
    }

    /// The number of threads of this process.
    static func threadCount() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? 0
    }

    /// The threads whose kernel name is exactly `name` (a name read from /proc ends in a newline).
    static func threads(exactlyNamed name: String) -> Set<String> {
        let ids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        return Set(ids.filter { id in
            let comm = (try? String(contentsOfFile: "/proc/self/task/\(id)/comm", encoding: .utf8)) ?? ""
            return comm.trimmingCharacters(in: .whitespacesAndNewlines) == name
        })
    }

    /// Polls `condition` until it holds or `timeout` passes.
    static func eventually(timeout: Duration = .seconds(2), _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
