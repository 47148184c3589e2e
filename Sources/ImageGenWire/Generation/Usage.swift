internal import CImageGenWire

/// What a style or a job spent (`imagegen.v1.Usage`).
public struct Usage: WireMessage {
    /// HTTP requests sent.
    public var requests: UInt64
    /// Images received.
    public var images: UInt64
    /// Answers that may be billed but gave no image (blocked, text only).
    public var wastedBilledAttempts: UInt64
    /// Requests whose outcome is unknown (timeout, dropped after sending).
    public var unknownOutcomeAttempts: UInt64
    /// Prompt tokens, as the provider reported them.
    public var promptTokens: UInt64
    /// Output tokens, as the provider reported them.
    public var outputTokens: UInt64
    /// Total tokens, as the provider reported them.
    public var totalTokens: UInt64
    /// Requests sent in Batch API batches (included in `requests`).
    public var batchRequests: UInt64
    /// Images received from batches (included in `images`).
    public var batchImages: UInt64
    /// Every request that may have been billed, at the configured prices, in US dollars.
    public var estimatedCostUSD: Double
    /// The part of it that gave no image.
    public var wastedCostUSD: Double

    public init(
        requests: UInt64 = 0, images: UInt64 = 0, wastedBilledAttempts: UInt64 = 0, unknownOutcomeAttempts: UInt64 = 0,
        promptTokens: UInt64 = 0, outputTokens: UInt64 = 0, totalTokens: UInt64 = 0, batchRequests: UInt64 = 0,
        batchImages: UInt64 = 0, estimatedCostUSD: Double = 0, wastedCostUSD: Double = 0
    ) {
        self.batchRequests = batchRequests
        self.batchImages = batchImages
        self.estimatedCostUSD = estimatedCostUSD
        self.wastedCostUSD = wastedCostUSD
        self.requests = requests
        self.images = images
        self.wastedBilledAttempts = wastedBilledAttempts
        self.unknownOutcomeAttempts = unknownOutcomeAttempts
        self.promptTokens = promptTokens
        self.outputTokens = outputTokens
        self.totalTokens = totalTokens
    }

    public init(serializedBytes bytes: [UInt8], limits: DecodeLimits) throws {
        try self.init(unpacking: bytes, limits: limits, name: "Usage")
    }

    public func serializedBytes() -> [UInt8] { packedBytes() }
}

extension Usage: ProtobufCConvertible {
    typealias CMessage = Imagegen__V1__Usage

    static func initialize(_ message: UnsafeMutablePointer<CMessage>) { imagegen__v1__usage__init(message) }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.requests = requests
        c.pointee.images = images
        c.pointee.wasted_billed_attempts = wastedBilledAttempts
        c.pointee.unknown_outcome_attempts = unknownOutcomeAttempts
        c.pointee.prompt_tokens = promptTokens
        c.pointee.output_tokens = outputTokens
        c.pointee.total_tokens = totalTokens
        c.pointee.batch_requests = batchRequests
        c.pointee.batch_images = batchImages
        c.pointee.estimated_cost_usd = estimatedCostUSD
        c.pointee.wasted_cost_usd = wastedCostUSD
    }

    init(c: CMessage) throws {
        requests = c.requests
        images = c.images
        wastedBilledAttempts = c.wasted_billed_attempts
        unknownOutcomeAttempts = c.unknown_outcome_attempts
        promptTokens = c.prompt_tokens
        outputTokens = c.output_tokens
        totalTokens = c.total_tokens
        batchRequests = c.batch_requests
        batchImages = c.batch_images
        estimatedCostUSD = c.estimated_cost_usd
        wastedCostUSD = c.wasted_cost_usd
    }
}

extension Usage {
    /// A `Usage` sub-message field: absent on the wire reads as `Usage()`.
    static func decoded(_ pointer: UnsafeMutablePointer<CMessage>?) throws -> Usage {
        try CField.message(pointer, as: Usage.self) ?? Usage()
    }
}
