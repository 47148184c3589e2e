import ImageGenTestSupport
import Testing

/// What the PNG tests draw: kinds of content that compress very differently.
enum TestImage: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case black
    case white
    case flat
    case verticalGradient
    case horizontalGradient
    case stripes
    case noise

    var testDescription: String { rawValue }

    /// `width` × `height` RGB pixels of this kind (deterministic).
    func pixels(width: Int, height: Int) -> [UInt8] {
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        var random = SplitMix64(seed: UInt64(width * 7_919 + height))
        for y in 0..<height {
            for x in 0..<width {
                let i = (y * width + x) * 3
                let pixel = color(x: x, y: y, width: width, height: height, random: &random)
                (rgb[i], rgb[i + 1], rgb[i + 2]) = pixel
            }
        }
        return rgb
    }

    private func color(x: Int, y: Int, width: Int, height: Int, random: inout SplitMix64) -> (UInt8, UInt8, UInt8) {
        switch self {
        case .black: return (0, 0, 0)
        case .white: return (255, 255, 255)
        case .flat: return (12, 200, 99)
        case .verticalGradient:
            let v = UInt8(y * 255 / max(1, height - 1))
            return (v, 255 - v, v / 2)
        case .horizontalGradient:
            let v = UInt8(x * 255 / max(1, width - 1))
            return (v / 3, v, 255 - v)
        case .stripes: return (x + y) % 4 < 2 ? (250, 10, 10) : (10, 10, 250)
        case .noise:
            let value = random.next()
            return (UInt8(truncatingIfNeeded: value), UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value >> 16))
        }
    }
}
