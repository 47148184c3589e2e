internal import CImageGenWire

/// The request of `imagegen.v1.ImageGeneration/ListJobs`; it has no fields.
public struct ListJobsRequest: WireMessage {
    public init() {}

    public init(serializedBytes bytes: [UInt8], limits: DecodeLimits) throws {
        try self.init(unpacking: bytes, limits: limits, name: "ListJobsRequest")
    }

    public func serializedBytes() -> [UInt8] { packedBytes() }
}

extension ListJobsRequest: ProtobufCConvertible {
    typealias CMessage = Imagegen__V1__ListJobsRequest

    static func initialize(_ message: UnsafeMutablePointer<CMessage>) { imagegen__v1__list_jobs_request__init(message) }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {}

    init(c: CMessage) throws {}
}
