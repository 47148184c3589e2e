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

    public init(
        requests: UInt64 = 0, images: UInt64 = 0, wastedBilledAttempts: UInt64 = 0, unknownOutcomeAttempts: UInt64 = 0,
        promptTokens: UInt64 = 0, outputTokens: UInt64 = 0, totalTokens: UInt64 = 0
    ) {
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
    }

    init(c: CMessage) throws {
        requests = c.requests
        images = c.images
        wastedBilledAttempts = c.wasted_billed_attempts
        unknownOutcomeAttempts = c.unknown_outcome_attempts
        promptTokens = c.prompt_tokens
        outputTokens = c.output_tokens
        totalTokens = c.total_tokens
    }
}

extension Usage {
    /// A `Usage` sub-message field: absent on the wire reads as `Usage()`.
    static func decoded(_ pointer: UnsafeMutablePointer<CMessage>?) throws -> Usage {
        try CField.message(pointer, as: Usage.self) ?? Usage()
    }
}
