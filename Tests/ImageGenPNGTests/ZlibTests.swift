import ImageGenPNG
import ImageGenTestSupport
import Testing

@Suite("zlib wrapper", .timeLimit(.minutes(2)), .hangWatchdog)
struct ZlibTests {
    static let sample = Array("the quick brown fox jumps over the lazy dog; ".utf8) + TestImage.noise.pixels(width: 40, height: 30)

    @Test(arguments: [Zlib.Format.zlib, .gzip], [0, 1, 6, 9, Zlib.defaultLevel])
    func roundTrips(format: Zlib.Format, level: Int) throws {
        for input in [[], [0x42], Self.sample, [UInt8](repeating: 0, count: 300_000)] {
            let stream = try Zlib.compress(input, format: format, level: level)
            #expect(try Zlib.decompress(stream, format: format, maximumLength: input.count) == input)
        }
    }

    @Test func gzipMembersCarryTheCRCAndLength() throws {
        let member = try Zlib.compress(Self.sample, format: .gzip)
        #expect(Array(member.prefix(3)) == [0x1F, 0x8B, 0x08])
        let trailer = Array(member.suffix(8))
        let crc = trailer[0..<4].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let size = trailer[4..<8].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        #expect(crc == Zlib.crc32(Self.sample))
        #expect(size == UInt32(Self.sample.count))
    }

    @Test func checksumsMatchTheirStandardVectors() {
        #expect(Zlib.crc32(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(Zlib.adler32(Array("Wikipedia".utf8)) == 0x11E6_0398)
        #expect(Zlib.crc32([]) == 0 && Zlib.adler32([]) == 1)
        let (head, tail) = (Self.sample[..<100], Self.sample[100...])
        #expect(Zlib.crc32(tail, continuing: Zlib.crc32(head)) == Zlib.crc32(Self.sample))
        #expect(Zlib.adler32(tail, continuing: Zlib.adler32(head)) == Zlib.adler32(Self.sample))
        #expect(Zlib.crc32(Self.sample) == PNGFile.crc(Self.sample))
        #expect(Zlib.crc32(Self.sample.lazy.map { $0 }) == Zlib.crc32(Self.sample))  // not contiguous
    }

    /// Damaged streams, each refused with the code that says what is wrong.
    enum Damage: String, CaseIterable, CustomTestStringConvertible {
        case empty, headerByte, checkValue, blockBits, truncated, trailingBytes, gzipAsZlib, zlibAsGzip, tooLong

        var testDescription: String { rawValue }
        var expected: ZlibError.Code {
            switch self {
            case .empty, .truncated: .truncated
            case .headerByte, .checkValue, .blockBits, .gzipAsZlib, .zlibAsGzip: .corruptData
            case .trailingBytes: .trailingData
            case .tooLong: .outputTooLarge
            }
        }
    }

    @Test(arguments: Damage.allCases)
    func refusesDamagedStreams(damage: Damage) throws {
        var stream = try Zlib.compress(Self.sample)
        var format = Zlib.Format.zlib
        var limit = Self.sample.count
        switch damage {
        case .empty: stream = []
        case .headerByte: stream[1] ^= 0x01
        case .checkValue: stream[stream.count - 1] ^= 0x80
        case .blockBits: stream[2] |= 0x06  // BTYPE 3: reserved
        case .truncated: stream.removeLast(9)
        case .trailingBytes: stream += [0, 0]
        case .gzipAsZlib: stream = try Zlib.compress(Self.sample, format: .gzip)
        case .zlibAsGzip: format = .gzip
        case .tooLong: limit -= 1
        }
        let error = #expect(throws: ZlibError.self) { try Zlib.decompress(stream, format: format, maximumLength: limit) }
        #expect(error?.code == damage.expected)
        #expect(error?.operation == .decompress)
        #expect(error?.message.hasPrefix("zlib decompress failed (\(damage.expected.rawValue)): ") == true)
        #expect((error?.message.utf8.count ?? 0) < 400)
    }

    @Test(arguments: [-2, 10, 42, Int.max])
    func refusesLevelsZlibDoesNotHave(level: Int) {
        let error = #expect(throws: ZlibError.self) { try Zlib.compress(Self.sample, level: level) }
        #expect(error?.code == .invalidParameter && error?.operation == .compress)
        #expect(error?.message.contains("-1 to 9") == true)
    }

    @Test func deterministic() throws {
        #expect(try Zlib.compress(Self.sample) == Zlib.compress(Self.sample))
        #expect(try Zlib.compress(Self.sample, format: .gzip) == Zlib.compress(Self.sample, format: .gzip))
        #expect(!Zlib.version.isEmpty)
    }
}
