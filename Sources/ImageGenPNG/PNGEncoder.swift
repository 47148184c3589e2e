/// Writes 8-bit truecolour (RGB) PNG files: the signature, IHDR, one IDAT and IEND. The rows are
/// left unfiltered (filter type 0, which zlib's LZ77 compresses best for flat fills and vertical
/// gradients) and compressed by zlib at its default level; chunk CRCs are zlib's CRC-32. The same
/// pixels always give the same bytes (with the same zlib).
///
/// ```swift
/// let png = try PNGEncoder.encodeRGB(width: 2, height: 1, rgb: [255, 0, 0, 0, 0, 255])
/// ```
public enum PNGEncoder {
    /// The 8 bytes every PNG file starts with.
    public static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    /// The largest width or height PNG allows (2³¹ − 1).
    public static let maximumDimension = Int(Int32.max)

    /// Encodes `rgb` (`width` × `height` pixels of 3 bytes, row by row from the top) as a PNG file.
    public static func encodeRGB(width: Int, height: Int, rgb: [UInt8]) throws(PNGEncodingError) -> [UInt8] {
        let rowBytes = try rowLength(width: width, height: height, pixelBytes: rgb.count)
        var raw = [UInt8]()
        raw.reserveCapacity((rowBytes + 1) * height)
        for row in 0..<height {
            raw.append(0)  // filter type 0: none
            raw.append(contentsOf: rgb[(row * rowBytes)..<((row + 1) * rowBytes)])
        }
        let compressed: [UInt8]
        do {
            compressed = try Zlib.compress(raw)
        } catch {
            throw .compression(error)
        }
        var header = [UInt8]()
        header.appendBigEndian(UInt32(width))
        header.appendBigEndian(UInt32(height))
        header += [8, 2, 0, 0, 0]  // bit depth 8, colour type 2 (RGB), deflate, filter method 0, no interlace
        var png = signature
        png.reserveCapacity(signature.count + 3 * 12 + header.count + compressed.count)
        appendChunk("IHDR", header, to: &png)
        appendChunk("IDAT", compressed, to: &png)
        appendChunk("IEND", [], to: &png)
        return png
    }

    /// Bytes per row of pixels, after checking the size against PNG's limits and the buffer.
    private static func rowLength(width: Int, height: Int, pixelBytes: Int) throws(PNGEncodingError) -> Int {
        guard (1...maximumDimension).contains(width), (1...maximumDimension).contains(height) else {
            throw .invalidSize(width: width, height: height)
        }
        let (row, rowOverflow) = width.multipliedReportingOverflow(by: 3)
        let (total, totalOverflow) = row.multipliedReportingOverflow(by: height)
        guard !rowOverflow, !totalOverflow, total == pixelBytes else {
            throw .pixelCount(width: width, height: height, bytes: pixelBytes)
        }
        return row
    }

    private static func appendChunk(_ type: StaticString, _ data: [UInt8], to png: inout [UInt8]) {
        let typeBytes = type.withUTF8Buffer { Array($0) }
        png.appendBigEndian(UInt32(data.count))
        png += typeBytes
        png += data
        png.appendBigEndian(Zlib.crc32(data, continuing: Zlib.crc32(typeBytes)))
    }
}

extension Array where Element == UInt8 {
    fileprivate mutating func appendBigEndian(_ value: UInt32) {
        append(contentsOf: [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)])
    }
}
