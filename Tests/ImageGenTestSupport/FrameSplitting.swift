public import ImageGenWire

/// Splits the bytes a test received from a peer into the whole frames they hold (each a 4-byte
/// big-endian length, then that many bytes of `imagegen.v1.Frame`); a partial frame at the end is
/// left out. Throws when a whole frame does not decode.
public enum FrameSplitting {
    public static func frames(in bytes: [UInt8]) throws -> [Frame] {
        var frames: [Frame] = []
        var offset = 0
        while bytes.count - offset >= FrameHeader.size {
            let length = Int(FrameHeader.decodeLength(bytes[offset..<offset + FrameHeader.size]))
            let body = offset + FrameHeader.size
            guard bytes.count - body >= length else { break }
            frames.append(try Frame(serializedBytes: Array(bytes[body..<body + length])))
            offset = body + length
        }
        return frames
    }
}
