internal import CImageGenWire

/// The request of `imagegen.v1.Health/Check`.
public struct HealthCheckRequest: WireMessage {
    /// Empty for the whole server, or a service name such as "imagegen.v1.ImageGeneration".
    public var service: String

    public init(service: String = "") {
        self.service = service
    }

    public init(serializedBytes bytes: [UInt8], limits: DecodeLimits) throws {
        try self.init(unpacking: bytes, limits: limits, name: "HealthCheckRequest")
    }

    public func serializedBytes() -> [UInt8] { packedBytes() }
}

extension HealthCheckRequest: ProtobufCConvertible {
    typealias CMessage = Imagegen__V1__HealthCheckRequest

    static func initialize(_ message: UnsafeMutablePointer<CMessage>) { imagegen__v1__health_check_request__init(message) }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.service = arena.string(service)
    }

    init(c: CMessage) throws {
        service = try CField.string(c.service, "HealthCheckRequest.service")
    }
}
