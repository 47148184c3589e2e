/// The 4-byte big-endian length that precedes every frame on the wire.
public enum FrameHeader {
    /// Bytes in the length prefix.
    public static let size = 4

    /// The default largest frame a receiver accepts: 16 MiB.
    public static let defaultMaxFrameBytes = 16 * 1024 * 1024

    /// Checks a length prefix against `maxFrameBytes` before anything is buffered.
    public static func validate(length: UInt32, maxFrameBytes: Int) throws {
        if length == 0 {
            throw WireError(.emptyFrame, "frame length is 0")
        }
        if Int(length) > maxFrameBytes {
            throw WireError(.frameTooLarge, "frame length \(length) exceeds the limit of \(maxFrameBytes) bytes")
        }
    }

    /// The length prefix for a payload of `count` bytes.
    public static func encode(length count: Int) -> [UInt8] {
        let value = UInt32(count)
        return [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }

    /// Reads a length prefix from the first 4 bytes of `bytes`.
    public static func decodeLength<C: Collection<UInt8>>(_ bytes: C) -> UInt32 {
        precondition(bytes.count >= size, "a frame header has 4 bytes")
        return bytes.prefix(size).reduce(UInt32(0)) { ($0 << 8) | UInt32($1) }
    }
}

extension Frame {
    /// The frame as it goes on the wire: length prefix then the serialized frame.
    public func framedBytes() -> [UInt8] {
        let payload = serializedBytes()
        return FrameHeader.encode(length: payload.count) + payload
    }
}
