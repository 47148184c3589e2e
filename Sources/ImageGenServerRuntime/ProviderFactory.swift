import ImageGenEngine
import Logging

/// Chooses the provider of a style that has keys.
enum ProviderFactory {
    /// The Gemini provider is plugged in here once it is part of the build; until then styles
    /// with keys fall back to the offline renderer, and say so.
    static func make(logger: Logger) -> ImageEngine.ProviderFactory? {
        nil
    }
}
