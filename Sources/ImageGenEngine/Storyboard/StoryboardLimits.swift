/// Caps on the size of a storyboard, checked with its other rules. A server sets them from its
/// flags (a client's storyboard); the engine's default has none (a storyboard the operator wrote).
public struct StoryboardLimits: Sendable, Equatable {
    /// The most beats in all shots together.
    public var maxBeats: Int
    /// The most bytes (UTF-8) of one beat's prompt.
    public var maxPromptBytes: Int

    public init(maxBeats: Int = .max, maxPromptBytes: Int = .max) {
        self.maxBeats = maxBeats
        self.maxPromptBytes = maxPromptBytes
    }

    /// No caps.
    public static let unlimited = StoryboardLimits()
}
