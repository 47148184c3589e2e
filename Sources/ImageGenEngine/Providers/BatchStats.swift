/// A batch's `batchStats`: how many of its requests are done, failed and still pending.
public struct BatchStats: Sendable, Equatable, Codable {
    public var requestCount: Int
    public var successfulRequestCount: Int
    public var failedRequestCount: Int
    public var pendingRequestCount: Int

    public init(requestCount: Int = 0, successful: Int = 0, failed: Int = 0, pending: Int = 0) {
        self.requestCount = requestCount
        self.successfulRequestCount = successful
        self.failedRequestCount = failed
        self.pendingRequestCount = pending
    }

    /// Requests the batch processed (and so billed, when they succeeded).
    public var processed: Int { successfulRequestCount + failedRequestCount }
}
