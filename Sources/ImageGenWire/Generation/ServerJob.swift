internal import CImageGenWire

/// A job a server runs, as its lease on the project says (`imagegen.v1.ServerJob`).
public struct ServerJob: WireMessage, Equatable {
    public var jobID: String
    /// The project folder relative to the shared projects root.
    public var projectDir: String
    /// When the lease ends unless the owner's heartbeat renews it (Unix ms, database clock).
    public var leaseExpiresUnixMs: Int64

    public init(jobID: String = "", projectDir: String = "", leaseExpiresUnixMs: Int64 = 0) {
        self.jobID = jobID
        self.projectDir = projectDir
        self.leaseExpiresUnixMs = leaseExpiresUnixMs
    }

    public init(serializedBytes bytes: [UInt8], limits: DecodeLimits) throws {
        try self.init(unpacking: bytes, limits: limits, name: "ServerJob")
    }

    public func serializedBytes() -> [UInt8] { packedBytes() }
}

extension ServerJob: ProtobufCConvertible {
    typealias CMessage = Imagegen__V1__ServerJob

    static func initialize(_ message: UnsafeMutablePointer<CMessage>) { imagegen__v1__server_job__init(message) }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.job_id = arena.string(jobID)
        c.pointee.project_dir = arena.string(projectDir)
        c.pointee.lease_expires_unix_ms = leaseExpiresUnixMs
    }

    init(c: CMessage) throws {
        jobID = try CField.string(c.job_id, "ServerJob.job_id")
        projectDir = try CField.string(c.project_dir, "ServerJob.project_dir")
        leaseExpiresUnixMs = c.lease_expires_unix_ms
    }
}
