internal import CImageGenWire

/// The request of `imagegen.v1.ImageGeneration/WatchJob`.
public struct WatchJobRequest: WireMessage {
    /// The job to follow.
    public var jobID: String
    /// Replay events with `seq > afterSeq`, then follow live.
    public var afterSeq: UInt64

    public init(jobID: String = "", afterSeq: UInt64 = 0) {
        self.jobID = jobID
        self.afterSeq = afterSeq
    }

    public init(serializedBytes bytes: [UInt8], limits: DecodeLimits) throws {
        try self.init(unpacking: bytes, limits: limits, name: "WatchJobRequest")
    }

    public func serializedBytes() -> [UInt8] { packedBytes() }
}

extension WatchJobRequest: ProtobufCConvertible {
    typealias CMessage = Imagegen__V1__WatchJobRequest

    static func initialize(_ message: UnsafeMutablePointer<CMessage>) { imagegen__v1__watch_job_request__init(message) }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.job_id = arena.string(jobID)
        c.pointee.after_seq = afterSeq
    }

    init(c: CMessage) throws {
        jobID = try CField.string(c.job_id, "WatchJobRequest.job_id")
        afterSeq = c.after_seq
    }
}
