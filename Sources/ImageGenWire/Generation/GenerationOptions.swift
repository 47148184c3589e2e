internal import CImageGenWire

/// How a job generates (`imagegen.v1.GenerationOptions`).
public struct GenerationOptions: WireMessage {
    /// Regenerate beats even when their images are done and current.
    public var force: Bool
    /// Cap on this job's requests in flight per style; 0 = the server's default.
    public var maxConcurrency: UInt32
    /// Overrides every style's delivery for this job; `.unspecified` keeps each style's.
    public var delivery: Delivery
    /// This job's batches must be done this long after it started; 0 keeps each style's deadline.
    public var batchDeadlineSeconds: Double

    public init(force: Bool = false, maxConcurrency: UInt32 = 0, delivery: Delivery = .unspecified, batchDeadlineSeconds: Double = 0) {
        self.force = force
        self.maxConcurrency = maxConcurrency
        self.delivery = delivery
        self.batchDeadlineSeconds = batchDeadlineSeconds
    }

    public init(serializedBytes bytes: [UInt8], limits: DecodeLimits) throws {
        try self.init(unpacking: bytes, limits: limits, name: "GenerationOptions")
    }

    public func serializedBytes() -> [UInt8] { packedBytes() }
}

extension GenerationOptions: ProtobufCConvertible {
    typealias CMessage = Imagegen__V1__GenerationOptions

    static func initialize(_ message: UnsafeMutablePointer<CMessage>) { imagegen__v1__generation_options__init(message) }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.force = force.protobufC
        c.pointee.max_concurrency = maxConcurrency
        c.pointee.delivery = delivery.cValue()
        c.pointee.batch_deadline_seconds = batchDeadlineSeconds
    }

    init(c: CMessage) throws {
        force = CField.bool(c.force)
        maxConcurrency = c.max_concurrency
        delivery = try Delivery(c: c.delivery, "GenerationOptions.delivery")
        batchDeadlineSeconds = c.batch_deadline_seconds
    }
}
