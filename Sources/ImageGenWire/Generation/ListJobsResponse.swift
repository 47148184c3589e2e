internal import CImageGenWire

/// The response of `imagegen.v1.ImageGeneration/ListJobs`.
public struct ListJobsResponse: WireMessage {
    /// Every job the server knows.
    public var jobs: [JobStatus]

    public init(jobs: [JobStatus] = []) {
        self.jobs = jobs
    }

    public init(serializedBytes bytes: [UInt8], limits: DecodeLimits) throws {
        try self.init(unpacking: bytes, limits: limits, name: "ListJobsResponse")
    }

    public func serializedBytes() -> [UInt8] { packedBytes() }
}

extension ListJobsResponse: ProtobufCConvertible {
    typealias CMessage = Imagegen__V1__ListJobsResponse

    static func initialize(_ message: UnsafeMutablePointer<CMessage>) { imagegen__v1__list_jobs_response__init(message) }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        (c.pointee.n_jobs, c.pointee.jobs) = arena.messages(jobs)
    }

    init(c: CMessage) throws {
        jobs = try CField.messages(c.n_jobs, c.jobs, as: JobStatus.self)
    }
}
