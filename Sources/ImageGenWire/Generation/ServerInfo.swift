internal import CImageGenWire

/// One server that shares the coordination database, and its jobs (`imagegen.v1.ServerInfo`).
public struct ServerInfo: WireMessage, Equatable {
    /// Its `--server-id`.
    public var serverID: String
    /// HOST:PORT its clients reach it at; empty when not known.
    public var address: String
    /// Its last heartbeat (Unix ms, database clock); 0 when it has none recorded.
    public var seenUnixMs: Int64
    /// True for the server that answered.
    public var thisServer: Bool
    /// The unfinished jobs it holds leases of.
    public var jobs: [ServerJob]

    public init(serverID: String = "", address: String = "", seenUnixMs: Int64 = 0, thisServer: Bool = false, jobs: [ServerJob] = []) {
        self.serverID = serverID
        self.address = address
        self.seenUnixMs = seenUnixMs
        self.thisServer = thisServer
        self.jobs = jobs
    }

    public init(serializedBytes bytes: [UInt8], limits: DecodeLimits) throws {
        try self.init(unpacking: bytes, limits: limits, name: "ServerInfo")
    }

    public func serializedBytes() -> [UInt8] { packedBytes() }
}

extension ServerInfo: ProtobufCConvertible {
    typealias CMessage = Imagegen__V1__ServerInfo

    static func initialize(_ message: UnsafeMutablePointer<CMessage>) { imagegen__v1__server_info__init(message) }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.server_id = arena.string(serverID)
        c.pointee.address = arena.string(address)
        c.pointee.seen_unix_ms = seenUnixMs
        c.pointee.this_server = thisServer.protobufC
        (c.pointee.n_jobs, c.pointee.jobs) = arena.messages(jobs)
    }

    init(c: CMessage) throws {
        serverID = try CField.string(c.server_id, "ServerInfo.server_id")
        address = try CField.string(c.address, "ServerInfo.address")
        seenUnixMs = c.seen_unix_ms
        thisServer = CField.bool(c.this_server)
        jobs = try CField.messages(c.n_jobs, c.jobs, as: ServerJob.self)
    }
}
