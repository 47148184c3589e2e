
/// Deflate without compression (stored blocks) in zlib and gzip wrappers, with the CRC-32 and
/// Adler-32 checksums they need: enough for valid PNGs and gzip-encoded answers.
enum StoredDeflate {
    /// Raw deflate: stored blocks of at most 65,535 bytes, the last one flagged final.
    static func deflate(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var offset = 0
        repeat {
            let length = min(65_535, data.count - offset)
            let final: UInt8 = offset + length == data.count ? 1 : 0
            out.append(final)
            out += [UInt8(length & 0xFF), UInt8(length >> 8)]
            out += [UInt8(~length & 0xFF), UInt8((~length >> 8) & 0xFF)]
            out += data[offset..<(offset + length)]
            offset += length
        } while offset < data.count
        return out
    }

    /// A zlib stream (RFC 1950).
    static func zlib(_ data: [UInt8]) -> [UInt8] {
        let adler = adler32(data)
        return [0x78, 0x01] + deflate(data) + [UInt8(adler >> 24), UInt8((adler >> 16) & 0xFF), UInt8((adler >> 8) & 0xFF), UInt8(adler & 0xFF)]
    }

    /// A gzip member (RFC 1952).
    static func gzip(_ data: [UInt8]) -> [UInt8] {
        let crc = crc32(data)
        let size = UInt32(truncatingIfNeeded: data.count)
        func littleEndian(_ value: UInt32) -> [UInt8] {
            [UInt8(value & 0xFF), UInt8((value >> 8) & 0xFF), UInt8((value >> 16) & 0xFF), UInt8(value >> 24)]
        }
        return [0x1F, 0x8B, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xFF] + deflate(data) + littleEndian(crc) + littleEndian(size)
    }

    static func crc32(_ data: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    static func adler32(_ data: [UInt8]) -> UInt32 {
        var a: UInt32 = 1
        var b: UInt32 = 0
        for byte in data {
            a = (a + UInt32(byte)) % 65_521
            b = (b + a) % 65_521
        }
        return (b << 16) | a
    }
}
