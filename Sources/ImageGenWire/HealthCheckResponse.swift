internal import CImageGenWire

/// The response of `imagegen.v1.Health/Check`.
public struct HealthCheckResponse: WireMessage {
    /// Whether the server (or the named service) serves calls.
    public enum ServingStatus: Int32, Sendable, Equatable, CaseIterable {
        case unknown = 0
        case serving = 1
        case notServing = 2
    }

    public var status: ServingStatus

    public init(status: ServingStatus) {
        self.status = status
    }

    public init(serializedBytes bytes: [UInt8], limits: DecodeLimits) throws {
        try self.init(unpacking: bytes, limits: limits, name: "HealthCheckResponse")
    }

    public func serializedBytes() -> [UInt8] { packedBytes() }
}

extension HealthCheckResponse: ProtobufCConvertible {
    typealias CMessage = Imagegen__V1__HealthCheckResponse

    static func initialize(_ message: UnsafeMutablePointer<CMessage>) { imagegen__v1__health_check_response__init(message) }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.status = status.cValue()
    }

    init(c: CMessage) throws {
        status = try ServingStatus(c: c.status, "HealthCheckResponse.status")
    }
}

extension HealthCheckResponse.ServingStatus: ProtobufCEnum {}
