internal import CImageGenWire

/// The response of `imagegen.v1.ImageGeneration/ListServers`.
public struct ListServersResponse: WireMessage, Equatable {
    /// The answering server first, then the others seen recently, by server id.
    public var servers: [ServerInfo]
    /// False when the server has no coordination database: it alone is listed.
    public var coordinated: Bool
    /// As in ``JobStatus/coordinationProblem``: set while the answering server cannot coordinate.
    public var coordinationProblem: String

    public init(servers: [ServerInfo] = [], coordinated: Bool = false, coordinationProblem: String = "") {
        self.servers = servers
        self.coordinated = coordinated
        self.coordinationProblem = coordinationProblem
    }

    public init(serializedBytes bytes: [UInt8], limits: DecodeLimits) throws {
        try self.init(unpacking: bytes, limits: limits, name: "ListServersResponse")
    }

    public func serializedBytes() -> [UInt8] { packedBytes() }
}

extension ListServersResponse: ProtobufCConvertible {
    typealias CMessage = Imagegen__V1__ListServersResponse

    static func initialize(_ message: UnsafeMutablePointer<CMessage>) { imagegen__v1__list_servers_response__init(message) }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        (c.pointee.n_servers, c.pointee.servers) = arena.messages(servers)
        c.pointee.coordinated = coordinated.protobufC
        c.pointee.coordination_problem = arena.string(coordinationProblem)
    }

    init(c: CMessage) throws {
        servers = try CField.messages(c.n_servers, c.servers, as: ServerInfo.self)
        coordinated = CField.bool(c.coordinated)
        coordinationProblem = try CField.string(c.coordination_problem, "ListServersResponse.coordination_problem")
    }
}
