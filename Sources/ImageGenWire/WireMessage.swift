/// A message of the imagegen.v1 protocol as a Swift value: encoded and decoded by protobuf-c,
/// with no C type or pointer visible to callers.
public protocol WireMessage: Sendable, Equatable {
    /// Decodes protobuf bytes. Throws `WireError` for malformed bytes, invalid UTF-8, values the
    /// schema does not allow, or input that would need more memory than `limits` allow.
    init(serializedBytes: [UInt8], limits: DecodeLimits) throws

    /// Encodes the message as protobuf bytes.
    func serializedBytes() -> [UInt8]
}

extension WireMessage {
    /// Decodes protobuf bytes with the default limits.
    public init(serializedBytes bytes: [UInt8]) throws {
        try self.init(serializedBytes: bytes, limits: .default)
    }
}
