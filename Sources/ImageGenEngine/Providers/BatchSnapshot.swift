/// What Gemini says of one batch: its name, state and counts, and once it is done, a result for
/// each request it processed, by the request's `metadata.key`.
public struct BatchSnapshot: Sendable {
    /// "batches/abc123".
    public var name: String
    public var displayName: String
    /// "gemini-3.1-flash-image" (without "models/"); nil when Gemini did not say.
    public var model: String?
    public var state: BatchState
    public var stats: BatchStats
    /// Each processed request's outcome, classified exactly like an online answer (an image, a
    /// ``ProviderFailure`` for a block, a missing image or a per-request error). Empty until done.
    public var results: [String: Result<GeneratedImage, ProviderFailure>]

    public init(
        name: String, displayName: String, model: String? = nil, state: BatchState, stats: BatchStats = BatchStats(),
        results: [String: Result<GeneratedImage, ProviderFailure>] = [:]
    ) {
        self.name = name
        self.displayName = displayName
        self.model = model
        self.state = state
        self.stats = stats
        self.results = results
    }
}
