/// Hand-built protobuf encodings, for bytes the Swift types cannot produce.
enum ProtobufBytes {
    static func varint(_ value: UInt64) -> [UInt8] {
        var value = value
        var bytes: [UInt8] = []
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
        return bytes
    }

    static func tag(_ field: UInt64, wireType: UInt64) -> [UInt8] { varint(field << 3 | wireType) }

    /// A varint field (wire type 0).
    static func varintField(_ field: UInt64, _ value: UInt64) -> [UInt8] { tag(field, wireType: 0) + varint(value) }

    /// A length-delimited field (wire type 2).
    static func lengthDelimited(_ field: UInt64, _ payload: [UInt8]) -> [UInt8] {
        tag(field, wireType: 2) + varint(UInt64(payload.count)) + payload
    }
}
