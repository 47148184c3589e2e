import ImageGenPNG
import ImageGenTestSupport
import Testing

@Suite("PNG writer", .timeLimit(.minutes(3)), .hangWatchdog)
struct PNGEncoderTests {
    static let sizes: [(Int, Int)] = [(1, 1), (1, 2), (2, 1), (3, 3), (7, 5), (33, 17), (255, 1), (1, 300), (1024, 576)]

    @Test(arguments: sizes, TestImage.allCases)
    func decodesToWhatWasDrawn(size: (Int, Int), image: TestImage) throws {
        let (width, height) = size
        let rgb = image.pixels(width: width, height: height)
        let png = try PNGEncoder.encodeRGB(width: width, height: height, rgb: rgb)
        let file = try PNGFile(png)
        #expect(file.chunkTypes == ["IHDR", "IDAT", "IEND"])
        #expect(file.width == width && file.height == height)
        #expect(file.bitDepth == 8 && file.colourType == 2 && file.interlace == 0)
        #expect(file.rgb == rgb)
    }

    @Test(arguments: TestImage.allCases)
    func samePixelsSameBytes(image: TestImage) throws {
        let rgb = image.pixels(width: 64, height: 36)
        let first = try PNGEncoder.encodeRGB(width: 64, height: 36, rgb: rgb)
        #expect(try PNGEncoder.encodeRGB(width: 64, height: 36, rgb: rgb) == first)
        var changed = rgb
        changed[changed.count / 2] ^= 0x01
        #expect(try PNGEncoder.encodeRGB(width: 64, height: 36, rgb: changed) != first)
    }

    /// Flat fills and gradients (what the offline renderer draws) compress far below their raw size;
    /// noise does not compress, and zlib stores it with little overhead.
    @Test(arguments: TestImage.allCases)
    func compresses(image: TestImage) throws {
        let rgb = image.pixels(width: 256, height: 144)
        let png = try PNGEncoder.encodeRGB(width: 256, height: 144, rgb: rgb)
        if image == .noise {
            #expect(png.count < rgb.count + rgb.count / 50 + 200)
        } else {
            #expect(png.count < rgb.count / 20)
        }
    }

    @Test(arguments: [(0, 1), (1, 0), (-1, 5), (5, -3), (PNGEncoder.maximumDimension + 1, 1), (1, Int.max)])
    func refusesSizesPNGCannotHold(width: Int, height: Int) {
        #expect(throws: PNGEncodingError.invalidSize(width: width, height: height)) {
            try PNGEncoder.encodeRGB(width: width, height: height, rgb: [0, 0, 0])
        }
    }

    @Test(arguments: [(2, 2, 11), (2, 2, 13), (2, 2, 0), (1, 1, 4), (PNGEncoder.maximumDimension, PNGEncoder.maximumDimension, 3)])
    func refusesABufferOfTheWrongSize(width: Int, height: Int, bytes: Int) {
        let error = #expect(throws: PNGEncodingError.self) {
            try PNGEncoder.encodeRGB(width: width, height: height, rgb: [UInt8](repeating: 7, count: bytes))
        }
        #expect(error == .pixelCount(width: width, height: height, bytes: bytes))
        #expect(error?.description.contains("got \(bytes)") == true)
    }

    @Test func idatIsAZlibStreamAndChunkCRCsAreZlibs() throws {
        let rgb = TestImage.stripes.pixels(width: 9, height: 4)
        let png = try PNGEncoder.encodeRGB(width: 9, height: 4, rgb: rgb)
        let file = try PNGFile(png)
        // Compression method 8 (deflate), a window of at most 32 KiB (PNG's limit; smaller for small images).
        #expect(file.idat[0] & 0x0F == 8 && file.idat[0] >> 4 <= 7)
        #expect((UInt16(file.idat[0]) << 8 | UInt16(file.idat[1])) % 31 == 0)
        let raw = try Zlib.decompress(file.idat, maximumLength: 1_000)
        #expect(PNGFile.be32(file.idat, file.idat.count - 4) == Zlib.adler32(raw))
        #expect(Array(png[8..<12]) == [0, 0, 0, 13])
        #expect(PNGFile.be32(png, 29) == Zlib.crc32(png[12..<29]))
    }
}
