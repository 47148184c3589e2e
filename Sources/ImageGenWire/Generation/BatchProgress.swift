internal import CImageGenWire

/// A style's batch wave (`imagegen.v1.BatchProgress`): its number, how many batches, the least
/// advanced one's state and all their counts.
public struct BatchProgress: WireMessage {
    public var wave: UInt32
    public var batches: UInt32
    /// "pending", "running", "succeeded", "failed", "cancelled" or "expired".
    public var state: String
    public var requestCount: UInt64
    public var succeeded: UInt64
    public var failed: UInt64
    public var pending: UInt64

    public init(
        wave: UInt32 = 0, batches: UInt32 = 0, state: String = "", requestCount: UInt64 = 0, succeeded: UInt64 = 0,
        failed: UInt64 = 0, pending: UInt64 = 0
    ) {
        self.wave = wave
        self.batches = batches
        self.state = state
        self.requestCount = requestCount
        self.succeeded = succeeded
        self.failed = failed
        self.pending = pending
    }

    public init(serializedBytes bytes: [UInt8], limits: DecodeLimits) throws {
        try self.init(unpacking: bytes, limits: limits, name: "BatchProgress")
    }

    public func serializedBytes() -> [UInt8] { packedBytes() }
}

extension BatchProgress: ProtobufCConvertible {
    typealias CMessage = Imagegen__V1__BatchProgress

    static func initialize(_ message: UnsafeMutablePointer<CMessage>) { imagegen__v1__batch_progress__init(message) }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.wave = wave
        c.pointee.batches = batches
        c.pointee.state = arena.string(state)
        c.pointee.request_count = requestCount
        c.pointee.succeeded = succeeded
        c.pointee.failed = failed
        c.pointee.pending = pending
    }

    init(c: CMessage) throws {
        wave = c.wave
        batches = c.batches
        state = try CField.string(c.state, "BatchProgress.state")
        requestCount = c.request_count
        succeeded = c.succeeded
        failed = c.failed
        pending = c.pending
    }
}
