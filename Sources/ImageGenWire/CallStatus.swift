internal import CImageGenWire

/// Ends a call (`imagegen.v1.CallStatus`): a gRPC status code and a UTF-8 message.
public struct CallStatus: WireMessage {
    /// gRPC's numeric status code, 0 (OK) … 16 (UNAUTHENTICATED).
    public var code: UInt32
    public var message: String

    public init(code: UInt32, message: String) {
        self.code = code
        self.message = message
    }

    public init(serializedBytes bytes: [UInt8], limits: DecodeLimits) throws {
        try self.init(unpacking: bytes, limits: limits, name: "CallStatus")
    }

    public func serializedBytes() -> [UInt8] { packedBytes() }
}

extension CallStatus: ProtobufCConvertible {
    typealias CMessage = Imagegen__V1__CallStatus

    static func initialize(_ message: UnsafeMutablePointer<CMessage>) { imagegen__v1__call_status__init(message) }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.code = code
        c.pointee.message = arena.string(message)
    }

    init(c: CMessage) throws {
        code = c.code
        message = try CField.string(c.message, "CallStatus.message")
    }
}
