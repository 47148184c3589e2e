/// What a style's requests cost.
public struct SpendCounters: Sendable, Equatable, Codable {
    /// Requests sent (every outcome).
    public var requests: Int
    /// Images received.
    public var imagesReceived: Int
    /// Billed attempts without a usable image (blocked, no image).
    public var wastedAttempts: Int
    /// Attempts whose outcome is unknown (may have been billed).
    public var unknownOutcomeAttempts: Int
    /// Rate-limited attempts (429).
    public var rateLimited: Int
    public var usage: TokenUsage
    /// Requests sent inside Batch API batches (included in `requests`).
    public var batchRequests: Int
    /// Images received from batches (included in `imagesReceived`).
    public var batchImages: Int
    /// The estimated cost of every billed request, in US dollars, at the configured prices (batch at its own).
    public var estimatedCostUSD: Double
    /// The part of `estimatedCostUSD` that gave no image (blocked, no image, unknown outcomes).
    public var wastedCostUSD: Double

    public init(
        requests: Int = 0, imagesReceived: Int = 0, wastedAttempts: Int = 0, unknownOutcomeAttempts: Int = 0,
        rateLimited: Int = 0, usage: TokenUsage = TokenUsage(), batchRequests: Int = 0, batchImages: Int = 0,
        estimatedCostUSD: Double = 0, wastedCostUSD: Double = 0
    ) {
        self.requests = requests
        self.imagesReceived = imagesReceived
        self.wastedAttempts = wastedAttempts
        self.unknownOutcomeAttempts = unknownOutcomeAttempts
        self.rateLimited = rateLimited
        self.usage = usage
        self.batchRequests = batchRequests
        self.batchImages = batchImages
        self.estimatedCostUSD = estimatedCostUSD
        self.wastedCostUSD = wastedCostUSD
    }
}
