import Foundation
import ImageGenPNG
import ImageGenTestSupport
import Testing

/// The writer's files read by a reader that shares nothing with it: Python's struct and zlib
/// modules (its own CRC-32 and inflate), one Python process for every file.
@Suite("PNG writer, read by Python", .timeLimit(.minutes(2)), .hangWatchdog)
struct PythonPNGCheckTests {
    static let script = #"""
        import os, struct, sys, zlib
        folder = sys.argv[1]
        for name in sorted(os.listdir(folder)):
            if not name.endswith(".png"):
                continue
            data = open(os.path.join(folder, name), "rb").read()
            assert data[:8] == b"\x89PNG\r\n\x1a\n", name
            offset, idat, kinds = 8, b"", []
            while offset < len(data):
                length, kind = struct.unpack(">I4s", data[offset:offset + 8])
                body = data[offset + 8:offset + 8 + length]
                (crc,) = struct.unpack(">I", data[offset + 8 + length:offset + 12 + length])
                assert zlib.crc32(kind + body) == crc, (name, kind)
                kinds.append(kind.decode())
                if kind == b"IHDR":
                    width, height, depth, colour, method, filtering, interlace = struct.unpack(">IIBBBBB", body)
                if kind == b"IDAT":
                    idat += body
                offset += 12 + length
            assert kinds == ["IHDR", "IDAT", "IEND"], (name, kinds)
            assert (depth, colour, method, filtering, interlace) == (8, 2, 0, 0, 0), name
            raw = zlib.decompress(idat)
            stride = width * 3 + 1
            assert len(raw) == stride * height, name
            rows = [raw[row * stride:(row + 1) * stride] for row in range(height)]
            assert all(row[0] == 0 for row in rows), name
            open(os.path.join(folder, name[:-4] + ".rgb"), "wb").write(b"".join(row[1:] for row in rows))
            print(name, width, height)
        """#

    @Test func pythonDecodesEveryKindAndSize() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("imagegen-png-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var drawn: [String: [UInt8]] = [:]
        for (width, height) in [(1, 1), (5, 3), (33, 17), (640, 360)] {
            for image in TestImage.allCases {
                let name = "\(image.rawValue)-\(width)x\(height)"
                let rgb = image.pixels(width: width, height: height)
                drawn[name] = rgb
                let png = try PNGEncoder.encodeRGB(width: width, height: height, rgb: rgb)
                try Data(png).write(to: folder.appendingPathComponent(name + ".png"))
            }
        }
        let python = try ChildProcess("/usr/bin/env", arguments: ["python3", "-c", Self.script, folder.path])
        let status = try await python.waitForExit(timeout: .seconds(60))
        #expect(status == 0, "python3: \(python.stderr)")
        #expect(python.stdout.split(separator: "\n").count == drawn.count)
        for (name, rgb) in drawn {
            let decoded = try Data(contentsOf: folder.appendingPathComponent(name + ".rgb"))
            #expect([UInt8](decoded) == rgb, "\(name)")
        }
    }
}
