internal import CImageGenWire

/// Where one style of a job stands (`imagegen.v1.StyleProgress`).
public struct StyleProgress: WireMessage {
    /// The style's name.
    public var style: String
    /// Beats to render in this style.
    public var total: UInt32
    /// Done, including beats skipped because they were already done.
    public var completed: UInt32
    /// Beats that failed.
    public var failed: UInt32
    /// Beats being generated now.
    public var inFlight: UInt32
    /// 100 * completed / total.
    public var percent: Double
    /// API keys configured for the style.
    public var keysTotal: UInt32
    /// Keys cooling down after a rate limit.
    public var keysCooling: UInt32
    /// Keys disabled (invalid or forbidden).
    public var keysDisabled: UInt32
    /// Beats waiting in Batch API batches.
    public var inBatch: UInt32
    /// The batch wave out now, if any.
    public var batch: BatchProgress?

    public init(
        style: String = "", total: UInt32 = 0, completed: UInt32 = 0, failed: UInt32 = 0, inFlight: UInt32 = 0,
        percent: Double = 0, keysTotal: UInt32 = 0, keysCooling: UInt32 = 0, keysDisabled: UInt32 = 0,
        inBatch: UInt32 = 0, batch: BatchProgress? = nil
    ) {
        self.inBatch = inBatch
        self.batch = batch
        self.style = style
        self.total = total
        self.completed = completed
        self.failed = failed
        self.inFlight = inFlight
        self.percent = percent
        self.keysTotal = keysTotal
        self.keysCooling = keysCooling
        self.keysDisabled = keysDisabled
    }

    public init(serializedBytes bytes: [UInt8], limits: DecodeLimits) throws {
        try self.init(unpacking: bytes, limits: limits, name: "StyleProgress")
    }

    public func serializedBytes() -> [UInt8] { packedBytes() }
}

extension StyleProgress: ProtobufCConvertible {
    typealias CMessage = Imagegen__V1__StyleProgress

    static func initialize(_ message: UnsafeMutablePointer<CMessage>) { imagegen__v1__style_progress__init(message) }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.style = arena.string(style)
        c.pointee.total = total
        c.pointee.completed = completed
        c.pointee.failed = failed
        c.pointee.in_flight = inFlight
        c.pointee.percent = percent
        c.pointee.keys_total = keysTotal
        c.pointee.keys_cooling = keysCooling
        c.pointee.keys_disabled = keysDisabled
        c.pointee.in_batch = inBatch
        c.pointee.batch = arena.optionalMessage(batch)
    }

    init(c: CMessage) throws {
        style = try CField.string(c.style, "StyleProgress.style")
        total = c.total
        completed = c.completed
        failed = c.failed
        inFlight = c.in_flight
        percent = c.percent
        keysTotal = c.keys_total
        keysCooling = c.keys_cooling
        keysDisabled = c.keys_disabled
        inBatch = c.in_batch
        batch = try CField.message(c.batch, as: BatchProgress.self)
    }
}
