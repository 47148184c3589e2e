/// A minimal PNG writer in pure Swift: 8-bit RGB, one IDAT compressed with a small LZ77 +
/// fixed-Huffman deflate encoder (runs within a row and repeats of the row above), CRC-32 and
/// Adler-32 computed by hand. Good at the flat shapes and gradients the offline renderer draws.
struct PNGEncoder {
    /// Encodes `rgb` (width × height × 3 bytes, row by row) as a PNG file.
    static func encode(width: Int, height: Int, rgb: [UInt8]) -> [UInt8] {
        precondition(rgb.count == width * height * 3)
        let rowLength = width * 3 + 1
        var raw = [UInt8]()
        raw.reserveCapacity(rowLength * height)
        for y in 0..<height {
            raw.append(0)  // filter: none
            raw.append(contentsOf: rgb[(y * width * 3)..<((y + 1) * width * 3)])
        }
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        var header = [UInt8]()
        header.appendBigEndian(UInt32(width))
        header.appendBigEndian(UInt32(height))
        header += [8, 2, 0, 0, 0]  // depth 8, colour type RGB, deflate, adaptive filter, no interlace
        appendChunk("IHDR", header, to: &png)
        appendChunk("IDAT", zlib(raw, distances: [3, rowLength]), to: &png)
        appendChunk("IEND", [], to: &png)
        return png
    }

    static func appendChunk(_ type: String, _ data: [UInt8], to png: inout [UInt8]) {
        png.appendBigEndian(UInt32(data.count))
        let typeBytes = Array(type.utf8)
        png += typeBytes
        png += data
        png.appendBigEndian(crc32(typeBytes + data))
    }

    // MARK: zlib / deflate

    static func zlib(_ data: [UInt8], distances: [Int]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var writer = BitWriter()
        writer.write(1, count: 1)  // BFINAL
        writer.write(1, count: 2)  // BTYPE = fixed Huffman
        var position = 0
        while position < data.count {
            var bestLength = 0
            var bestDistance = 0
            for distance in distances where distance <= position {
                var length = 0
                let limit = min(258, data.count - position)
                while length < limit && data[position + length] == data[position + length - distance] { length += 1 }
                if length > bestLength {
                    bestLength = length
                    bestDistance = distance
                }
            }
            if bestLength >= 3 {
                writer.writeLength(bestLength)
                writer.writeDistance(bestDistance)
                position += bestLength
            } else {
                writer.writeLiteral(Int(data[position]))
                position += 1
            }
        }
        writer.writeLiteral(256)
        out += writer.finish()
        out.appendBigEndian(adler32(data))
        return out
    }

    struct BitWriter {
        var bytes: [UInt8] = []
        var buffer: UInt32 = 0
        var filled: UInt32 = 0

        mutating func write(_ value: Int, count: Int) {
            buffer |= UInt32(value) << filled
            filled += UInt32(count)
            while filled >= 8 {
                bytes.append(UInt8(truncatingIfNeeded: buffer))
                buffer >>= 8
                filled -= 8
            }
        }

        /// Writes a Huffman code most significant bit first.
        mutating func writeCode(_ code: Int, count: Int) {
            var reversed = 0
            for bit in 0..<count where code & (1 << bit) != 0 { reversed |= 1 << (count - 1 - bit) }
            write(reversed, count: count)
        }

        mutating func writeLiteral(_ symbol: Int) {
            switch symbol {
            case 0...143: writeCode(0x30 + symbol, count: 8)
            case 144...255: writeCode(0x190 + symbol - 144, count: 9)
            case 256...279: writeCode(symbol - 256, count: 7)
            default: writeCode(0xC0 + symbol - 280, count: 8)
            }
        }

        static let lengthBase = [
            3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258,
        ]
        static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
        static let distanceBase = [
            1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097,
            6145, 8193, 12289, 16385, 24577,
        ]
        static let distanceExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]

        mutating func writeLength(_ length: Int) {
            var index = Self.lengthBase.count - 1
            while Self.lengthBase[index] > length { index -= 1 }
            writeLiteral(257 + index)
            if Self.lengthExtra[index] > 0 { write(length - Self.lengthBase[index], count: Self.lengthExtra[index]) }
        }

        mutating func writeDistance(_ distance: Int) {
            var index = Self.distanceBase.count - 1
            while Self.distanceBase[index] > distance { index -= 1 }
            writeCode(index, count: 5)
            if Self.distanceExtra[index] > 0 { write(distance - Self.distanceBase[index], count: Self.distanceExtra[index]) }
        }

        mutating func finish() -> [UInt8] {
            if filled > 0 { bytes.append(UInt8(truncatingIfNeeded: buffer)) }
            buffer = 0
            filled = 0
            return bytes
        }
    }

    // MARK: checksums

    static let crcTable: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = crcTable[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var a: UInt32 = 1
        var b: UInt32 = 0
        for byte in bytes {
            a = (a + UInt32(byte)) % 65521
            b = (b + a) % 65521
        }
        return (b << 16) | a
    }
}

extension Array where Element == UInt8 {
    mutating func appendBigEndian(_ value: UInt32) {
        append(UInt8(value >> 24))
        append(UInt8((value >> 16) & 0xFF))
        append(UInt8((value >> 8) & 0xFF))
        append(UInt8(value & 0xFF))
    }
}
