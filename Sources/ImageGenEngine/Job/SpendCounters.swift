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

    public init(
        requests: Int = 0, imagesReceived: Int = 0, wastedAttempts: Int = 0, unknownOutcomeAttempts: Int = 0,
        rateLimited: Int = 0, usage: TokenUsage = TokenUsage()
    ) {
        self.requests = requests
        self.imagesReceived = imagesReceived
        self.wastedAttempts = wastedAttempts
        self.unknownOutcomeAttempts = unknownOutcomeAttempts
        self.rateLimited = rateLimited
        self.usage = usage
    }
}
