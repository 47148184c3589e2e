import Foundation
internal import Crypto
public import ImageGenPNG
internal import Dispatch

/// The built-in renderer used when a style has no keys: draws a deterministic PNG per style and
/// prompt (a gradient and shapes seeded by a hash of both, with a composition per style), so a whole
/// pipeline can run without network or quota. Optionally waits `latency` first and logs each render.
///
/// ```swift
/// let provider = OfflineProvider(style: "clear", settings: OfflineSettings(latency: .milliseconds(50)))
/// let image = try await provider.generate(request)
/// ```
public struct OfflineProvider: ImageProvider {
    public var name: String { "offline" }
    /// The style drawn; it selects the palette and composition.
    public let style: String
    public let settings: OfflineSettings
    private let logQueue = DispatchQueue(label: "imagegen.offline.renderlog")

    public init(style: String, settings: OfflineSettings = OfflineSettings()) {
        self.style = style
        self.settings = settings
    }

    public func generate(_ request: ImageRequest) async throws -> GeneratedImage {
        if settings.latency > .zero {
            do { try await Task.sleep(for: settings.latency) } catch { throw ProviderFailure.cancelled }
        }
        if Task.isCancelled { throw ProviderFailure.cancelled }
        let png: [UInt8]
        do {
            png = try Self.render(style: style, prompt: request.prompt, width: settings.width, height: settings.height)
        } catch {
            throw Self.failure(error)
        }
        if let path = settings.renderLogPath {
            let line = "\(style)\t\(Self.promptDigest(request.prompt))\n"
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                logQueue.async {
                    Self.appendLine(line, to: path)
                    continuation.resume()
                }
            }
        }
        let promptTokens = request.prompt.utf8.count / 4 + 258 * request.references.count
        return GeneratedImage(
            mimeType: "image/png", data: Data(png),
            usage: TokenUsage(promptTokens: promptTokens, outputTokens: 0, totalTokens: promptTokens))
    }

    /// A size PNG cannot hold fails the beat; a zlib failure (out of memory) is worth a retry.
    private static func failure(_ error: PNGEncodingError) -> ProviderFailure {
        let message = "offline renderer: \(error.description)"
        switch error {
        case .invalidSize, .pixelCount: return .badRequest(message: message)
        case .compression: return .transient(status: nil, message: message, outcomeUnknown: false)
        }
    }

    /// The hex SHA-256 of a prompt, as written to the render log.
    public static func promptDigest(_ prompt: String) -> String {
        DurableFiles.sha256Hex(Data(prompt.utf8))
    }

    private static func appendLine(_ line: String, to path: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let bytes = Array(line.utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    /// Draws the image for `style` and `prompt` as a PNG (``PNGEncoder``): the same inputs always
    /// give the same bytes with the same zlib (a resumed project compares recorded hashes, not
    /// re-rendered bytes).
    public static func render(style: String, prompt: String, width: Int, height: Int) throws(PNGEncodingError)
        -> [UInt8]
    {
        let seed = Array(SHA256.hash(data: Data((style + "\n" + prompt).utf8)))
        let styleSeed = Array(SHA256.hash(data: Data(style.utf8)))
        var canvas = Canvas(width: width, height: height)
        // Background: a vertical gradient between two colours, tinted per style.
        let top = mix(color(styleSeed, 0), color(seed, 0), 0.35)
        let bottom = mix(color(styleSeed, 3), color(seed, 3), 0.35)
        for y in 0..<height {
            let t = height > 1 ? Double(y) / Double(height - 1) : 0
            canvas.fillRow(y, mix(top, bottom, t))
        }
        let shapeCount = 3 + Int(seed[6] % 4)
        for index in 0..<shapeCount {
            let base = 7 + index * 4
            let cx = Int(seed[base % 32]) * width / 256
            let cy = Int(seed[(base + 1) % 32]) * height / 256
            let size = max(2, (8 + Int(seed[(base + 2) % 32]) % 40) * min(width, height) / 100)
            let fill = mix(color(seed, (base + 3) % 30), color(styleSeed, 6 + index % 20), 0.3)
            switch Self.composition(of: style) {
            case 0:  // round shapes
                canvas.fillCircle(cx: cx, cy: cy, radius: size / 2, fill)
            case 1:  // rectangles
                canvas.fillRect(x: cx - size / 2, y: cy - size / 3, width: size, height: size * 2 / 3, fill)
            default:  // a horizon band and discs
                if index == 0 {
                    canvas.fillRect(x: 0, y: height * 2 / 3, width: width, height: height / 3, fill)
                } else {
                    canvas.fillCircle(cx: cx, cy: cy, radius: size / 3, fill)
                }
            }
        }
        return try PNGEncoder.encodeRGB(width: width, height: height, rgb: canvas.pixels)
    }

    /// 0: round shapes, 1: rectangles, 2: a horizon band and discs. Fixed for the built-in styles.
    static func composition(of style: String) -> Int {
        switch style {
        case "illustration": return 0
        case "clear": return 1
        case "consistent": return 2
        default: return style.utf8.reduce(0, { $0 &+ Int($1) }) % 3
        }
    }

    typealias RGB = (r: Double, g: Double, b: Double)

    static func color(_ seed: [UInt8], _ offset: Int) -> RGB {
        (Double(seed[offset % 32]), Double(seed[(offset + 1) % 32]), Double(seed[(offset + 2) % 32]))
    }

    static func mix(_ a: RGB, _ b: RGB, _ t: Double) -> RGB {
        (a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t)
    }

    struct Canvas {
        let width: Int
        let height: Int
        var pixels: [UInt8]

        init(width: Int, height: Int) {
            self.width = width
            self.height = height
            pixels = [UInt8](repeating: 0, count: width * height * 3)
        }

        mutating func set(_ x: Int, _ y: Int, _ c: RGB) {
            guard x >= 0, y >= 0, x < width, y < height else { return }
            let i = (y * width + x) * 3
            pixels[i] = UInt8(max(0, min(255, c.r)))
            pixels[i + 1] = UInt8(max(0, min(255, c.g)))
            pixels[i + 2] = UInt8(max(0, min(255, c.b)))
        }

        mutating func fillRow(_ y: Int, _ c: RGB) {
            for x in 0..<width { set(x, y, c) }
        }

        mutating func fillRect(x: Int, y: Int, width w: Int, height h: Int, _ c: RGB) {
            for yy in max(0, y)..<max(max(0, y), min(height, y + h)) {
                for xx in max(0, x)..<max(max(0, x), min(width, x + w)) { set(xx, yy, c) }
            }
        }

        mutating func fillCircle(cx: Int, cy: Int, radius: Int, _ c: RGB) {
            let r2 = radius * radius
            for yy in max(0, cy - radius)..<max(max(0, cy - radius), min(height, cy + radius + 1)) {
                for xx in max(0, cx - radius)..<max(max(0, cx - radius), min(width, cx + radius + 1))
                where (xx - cx) * (xx - cx) + (yy - cy) * (yy - cy) <= r2 {
                    set(xx, yy, c)
                }
            }
        }
    }
}
