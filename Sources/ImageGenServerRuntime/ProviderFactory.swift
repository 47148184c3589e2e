import ImageGenEngine
import ImageGenGemini
import Logging
import Synchronization

/// Makes the provider of a style that has keys: one Gemini provider (one libcurl I/O thread) per
/// base URL, shared by every job and style of the server.
final class ProviderFactory: Sendable {
    private let providers = Mutex<[String: any ImageProvider]>([:])
    private let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    /// The engine's factory closure.
    var engineFactory: ImageEngine.ProviderFactory {
        { [self] style in self.provider(baseURL: style.baseURL) }
    }

    func provider(baseURL: String) -> any ImageProvider {
        providers.withLock { providers in
            if let existing = providers[baseURL] { return existing }
            let made: any ImageProvider
            do {
                made = try GeminiProvider(configuration: GeminiConfiguration(baseURL: baseURL), logger: logger)
            } catch {
                made = UnavailableProvider(reason: "the Gemini provider cannot start: \(error)")
            }
            providers[baseURL] = made
            return made
        }
    }
}

/// A provider that fails every request with a configuration error, when the real one cannot start.
struct UnavailableProvider: ImageProvider {
    let reason: String
    var name: String { "unavailable" }

    func generate(_ request: ImageRequest) async throws -> GeneratedImage {
        throw ProviderFailure.configuration(status: 0, message: reason)
    }
}
