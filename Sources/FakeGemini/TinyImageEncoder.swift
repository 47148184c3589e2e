public import Foundation

/// Encodes tiny but valid images: an 8×8 single-colour PNG (stored deflate, CRC-32, Adler-32
/// computed here) whose colour comes from a hash of a seed string, and an 8×8 grey baseline JPEG.
public enum TinyImageEncoder {
    /// An 8×8 RGB PNG whose colour is derived from `seed` (same seed, same bytes).
    public static func png(seed: String) -> Data {
        let hash = fnv1a(seed)
        let rgb = [UInt8(truncatingIfNeeded: hash), UInt8(truncatingIfNeeded: hash >> 8), UInt8(truncatingIfNeeded: hash >> 16)]
        return png(width: 8, height: 8, rgb: rgb)
    }

    /// A single-colour RGB PNG.
    public static func png(width: Int, height: Int, rgb: [UInt8]) -> Data {
        var raw: [UInt8] = []
        raw.reserveCapacity((width * 3 + 1) * height)
        for _ in 0..<height {
            raw.append(0)  // filter: none
            for _ in 0..<width { raw.append(contentsOf: rgb.prefix(3)) }
        }
        var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        var header: [UInt8] = []
        header += bigEndian(UInt32(width))
        header += bigEndian(UInt32(height))
        header += [8, 2, 0, 0, 0]  // 8-bit, truecolour, deflate, no filter method, no interlace
        appendChunk("IHDR", header, to: &out)
        appendChunk("IDAT", StoredDeflate.zlib(raw), to: &out)
        appendChunk("IEND", [], to: &out)
        return Data(out)
    }

    /// An 8×8 mid-grey baseline JPEG (one DC-only block, one-symbol Huffman tables).
    public static func jpeg() -> Data {
        var out: [UInt8] = [0xFF, 0xD8]  // SOI
        out += [0xFF, 0xE0, 0x00, 0x10, 0x4A, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]
        out += [0xFF, 0xDB, 0x00, 0x43, 0x00] + [UInt8](repeating: 1, count: 64)  // DQT, all ones
        out += [0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x08, 0x00, 0x08, 0x01, 0x01, 0x11, 0x00]  // SOF0 8×8 grey
        let oneSymbol: [UInt8] = [1] + [UInt8](repeating: 0, count: 15) + [0x00]
        out += [0xFF, 0xC4, 0x00, 0x26, 0x00] + oneSymbol + [0x10] + oneSymbol  // DHT: DC 0 and AC 0 (EOB)
        out += [0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00]  // SOS
        out += [0x3F]  // DC category 0 ("0"), EOB ("0"), padded with ones
        out += [0xFF, 0xD9]  // EOI
        return Data(out)
    }

    // MARK: - Pieces

    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        return hash
    }

    private static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }

    private static func appendChunk(_ type: String, _ data: [UInt8], to out: inout [UInt8]) {
        let typeBytes = Array(type.utf8)
        out += bigEndian(UInt32(data.count))
        out += typeBytes
        out += data
        out += bigEndian(StoredDeflate.crc32(typeBytes + data))
    }
}
