/// Settings of the built-in offline renderer (used by styles without keys).
public struct OfflineSettings: Sendable, Equatable {
    /// Image width in pixels.
    public var width: Int
    /// Image height in pixels.
    public var height: Int
    /// A pause before each image, to mimic a remote model in demos and tests.
    public var latency: Duration
    /// Requests rendered at once per style.
    public var concurrency: Int
    /// When set, one line per rendered image ("style<TAB>sha256(prompt)") is appended to this file.
    public var renderLogPath: String?

    public init(
        width: Int = 256, height: Int = 144, latency: Duration = .zero, concurrency: Int = 4,
        renderLogPath: String? = nil
    ) {
        self.width = width
        self.height = height
        self.latency = latency
        self.concurrency = concurrency
        self.renderLogPath = renderLogPath
    }
}
