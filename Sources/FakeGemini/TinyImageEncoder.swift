public import Foundation
public import ImageGenPNG

/// Encodes tiny but valid images: an 8×8 single-colour PNG (through ``PNGEncoder``, zlib) whose
/// colour comes from a hash of a seed string, and an 8×8 grey baseline JPEG.
public enum TinyImageEncoder {
    /// An 8×8 RGB PNG whose colour is derived from `seed` (same seed, same bytes).
    public static func png(seed: String) throws(PNGEncodingError) -> Data {
        let hash = fnv1a(seed)
        let rgb = [UInt8(truncatingIfNeeded: hash), UInt8(truncatingIfNeeded: hash >> 8), UInt8(truncatingIfNeeded: hash >> 16)]
        return try png(width: 8, height: 8, rgb: rgb)
    }

    /// A single-colour RGB PNG of `rgb` (3 bytes).
    public static func png(width: Int, height: Int, rgb: [UInt8]) throws(PNGEncodingError) -> Data {
        let pixel = Array(rgb.prefix(3))
        let count = width > 0 && height > 0 && pixel.count == 3 ? width * height : 0
        let pixels = [[UInt8]](repeating: pixel, count: count).flatMap { $0 }
        return Data(try PNGEncoder.encodeRGB(width: width, height: height, rgb: pixels))
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
}
