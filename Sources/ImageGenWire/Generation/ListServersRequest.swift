internal import CImageGenWire

/// The request of `imagegen.v1.ImageGeneration/ListServers`; it has no fields.
public struct ListServersRequest: WireMessage {
    public init() {}

    public init(serializedBytes bytes: [UInt8], limits: DecodeLimits) throws {
        try self.init(unpacking: bytes, limits: limits, name: "ListServersRequest")
    }

    public func serializedBytes() -> [UInt8] { packedBytes() }
}

extension ListServersRequest: ProtobufCConvertible {
    typealias CMessage = Imagegen__V1__ListServersRequest

    static func initialize(_ message: UnsafeMutablePointer<CMessage>) { imagegen__v1__list_servers_request__init(message) }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {}

    init(c: CMessage) throws {}
}
