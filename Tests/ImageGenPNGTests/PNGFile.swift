import ImageGenPNG

/// A PNG file read back by the tests, independently of the writer: chunks walked and their CRCs
/// checked with a table computed here, IHDR read, the IDAT stream inflated by zlib and its rows
/// unfiltered (the writer uses filter type 0 only, so any other type is an error here).
struct PNGFile {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    var width = 0
    var height = 0
    var bitDepth: UInt8 = 0
    var colourType: UInt8 = 0
    var interlace: UInt8 = 0
    var chunkTypes: [String] = []
    var idat: [UInt8] = []
    /// The pixels, 3 bytes each, row by row.
    var rgb: [UInt8] = []

    init(_ bytes: [UInt8]) throws {
        guard bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else { throw Failure(description: "no signature") }
        var offset = 8
        while offset < bytes.count {
            guard offset + 12 <= bytes.count else { throw Failure(description: "chunk header cut at \(offset)") }
            let length = Int(Self.be32(bytes, offset))
            guard offset + 12 + length <= bytes.count else { throw Failure(description: "chunk data cut at \(offset)") }
            let typeAndData = Array(bytes[(offset + 4)..<(offset + 8 + length)])
            guard Self.crc(typeAndData) == Self.be32(bytes, offset + 8 + length) else {
                throw Failure(description: "bad CRC in chunk at \(offset)")
            }
            try read(type: String(decoding: typeAndData.prefix(4), as: UTF8.self), data: Array(typeAndData.dropFirst(4)))
            offset += 12 + length
        }
        guard chunkTypes.last == "IEND" else { throw Failure(description: "no IEND") }
        try unfilter()
    }

    private mutating func read(type: String, data: [UInt8]) throws {
        chunkTypes.append(type)
        switch type {
        case "IHDR":
            guard data.count == 13 else { throw Failure(description: "IHDR of \(data.count) bytes") }
            width = Int(Self.be32(data, 0))
            height = Int(Self.be32(data, 4))
            (bitDepth, colourType, interlace) = (data[8], data[9], data[12])
        case "IDAT": idat += data
        default: break
        }
    }

    private mutating func unfilter() throws {
        let rowBytes = width * 3
        let expected = (rowBytes + 1) * height
        // One byte more than expected, so that a stream with extra rows fails as too large.
        let raw = try Zlib.decompress(idat, maximumLength: expected + 1)
        guard raw.count == expected else { throw Failure(description: "IDAT inflates to \(raw.count) bytes, not \(expected)") }
        rgb.reserveCapacity(rowBytes * height)
        for row in 0..<height {
            let start = row * (rowBytes + 1)
            guard raw[start] == 0 else { throw Failure(description: "row \(row) has filter type \(raw[start])") }
            rgb += raw[(start + 1)..<(start + 1 + rowBytes)]
        }
    }

    static func be32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
    }

    private static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    /// CRC-32 as the PNG specification's sample code computes it.
    static func crc(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}
