internal import CImageGenWire

/// Names a job, for CancelGeneration, PauseGeneration and ResumeGeneration (`imagegen.v1.JobRequest`).
public struct JobRequest: WireMessage {
    /// The job to act on.
    public var jobID: String

    public init(jobID: String = "") {
        self.jobID = jobID
    }

    public init(serializedBytes bytes: [UInt8], limits: DecodeLimits) throws {
        try self.init(unpacking: bytes, limits: limits, name: "JobRequest")
    }

    public func serializedBytes() -> [UInt8] { packedBytes() }
}

extension JobRequest: ProtobufCConvertible {
    typealias CMessage = Imagegen__V1__JobRequest

    static func initialize(_ message: UnsafeMutablePointer<CMessage>) { imagegen__v1__job_request__init(message) }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.job_id = arena.string(jobID)
    }

    init(c: CMessage) throws {
        jobID = try CField.string(c.job_id, "JobRequest.job_id")
    }
}
