import Foundation
import ImageGenTestSupport
import Testing

@testable import ImageGenEngine

/// The one sniffer the providers and the engine share: names bytes by their magic numbers.
@Suite("Image sniffer", .timeLimit(.minutes(1)), .hangWatchdog)
struct ImageSnifferTests {
    static let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13]
    static let cases: [(name: String, bytes: [UInt8], any: String?, stored: String?)] = [
        ("png", png, "image/png", "image/png"),
        ("png signature only", Array(png.prefix(8)), "image/png", "image/png"),
        ("png signature cut short", Array(png.prefix(7)), nil, nil),
        ("png with a wrong byte", [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0B], nil, nil),
        ("jpeg", [0xFF, 0xD8, 0xFF, 0xE0, 0, 16], "image/jpeg", "image/jpeg"),
        ("jpeg marker only", [0xFF, 0xD8, 0xFF], "image/jpeg", "image/jpeg"),
        ("webp", Array("RIFF".utf8) + [1, 2, 3, 4] + Array("WEBPVP8 ".utf8), "image/webp", nil),
        ("riff that is not webp", Array("RIFF".utf8) + [1, 2, 3, 4] + Array("WAVE".utf8), nil, nil),
        ("gif", Array("GIF89a".utf8), "image/gif", nil),
        ("text", Array("{\"error\":1}".utf8), nil, nil),
        ("empty", [], nil, nil),
    ]

    @Test(arguments: cases.indices)
    func namesBytesByTheirMagicNumbers(index: Int) {
        let sample = Self.cases[index]
        let data = Data(sample.bytes)
        #expect(ImageSniffer.mimeType(of: data) == sample.any, "\(sample.name)")
        #expect(ImageSniffer.pngOrJPEG(data) == sample.stored, "\(sample.name)")
    }

    /// The sniffer looks at the bytes of the slice it is given, wherever the slice starts.
    @Test func readsASliceFromItsStart() {
        let framed = Data([0, 0, 0] + Self.png)
        #expect(ImageSniffer.mimeType(of: framed.dropFirst(3)) == "image/png")
        #expect(ImageSniffer.mimeType(of: framed) == nil)
    }
}
