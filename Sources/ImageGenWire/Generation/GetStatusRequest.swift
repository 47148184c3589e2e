internal import CImageGenWire

/// The request of `imagegen.v1.ImageGeneration/GetStatus`.
public struct GetStatusRequest: WireMessage {
    /// What to report on (the `target` oneof).
    public enum Target: Sendable, Hashable {
        /// A job by id.
        case jobID(String)
        /// A project: answers from the files on disk when no job runs.
        case projectDir(String)
    }

    /// nil when neither is set.
    public var target: Target?
    /// Whether the answer lists every beat's status.
    public var includeBeats: Bool

    public init(target: Target? = nil, includeBeats: Bool = false) {
        self.target = target
        self.includeBeats = includeBeats
    }

    public init(serializedBytes bytes: [UInt8], limits: DecodeLimits) throws {
        try self.init(unpacking: bytes, limits: limits, name: "GetStatusRequest")
    }

    public func serializedBytes() -> [UInt8] { packedBytes() }
}

extension GetStatusRequest: ProtobufCConvertible {
    typealias CMessage = Imagegen__V1__GetStatusRequest

    static func initialize(_ message: UnsafeMutablePointer<CMessage>) { imagegen__v1__get_status_request__init(message) }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        switch target {
        case nil:
            c.pointee.target_case = IMAGEGEN__V1__GET_STATUS_REQUEST__TARGET__NOT_SET
        case .jobID(let jobID):
            c.pointee.target_case = IMAGEGEN__V1__GET_STATUS_REQUEST__TARGET_JOB_ID
            c.pointee.job_id = arena.string(jobID)
        case .projectDir(let projectDir):
            c.pointee.target_case = IMAGEGEN__V1__GET_STATUS_REQUEST__TARGET_PROJECT_DIR
            c.pointee.project_dir = arena.string(projectDir)
        }
        c.pointee.include_beats = includeBeats.protobufC
    }

    init(c: CMessage) throws {
        switch c.target_case {
        case IMAGEGEN__V1__GET_STATUS_REQUEST__TARGET_JOB_ID:
            target = .jobID(try CField.string(c.job_id, "GetStatusRequest.job_id"))
        case IMAGEGEN__V1__GET_STATUS_REQUEST__TARGET_PROJECT_DIR:
            target = .projectDir(try CField.string(c.project_dir, "GetStatusRequest.project_dir"))
        default:
            target = nil
        }
        includeBeats = CField.bool(c.include_beats)
    }
}
