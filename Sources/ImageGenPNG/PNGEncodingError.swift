/// Why ``PNGEncoder`` could not write an image; `description` says it for a person.
public enum PNGEncodingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A width or height outside 1…2³¹ − 1.
    case invalidSize(width: Int, height: Int)
    /// The pixel buffer does not hold `width` × `height` × 3 bytes.
    case pixelCount(width: Int, height: Int, bytes: Int)
    /// zlib failed to compress the rows.
    case compression(ZlibError)

    public var description: String {
        switch self {
        case .invalidSize(let width, let height):
            "PNG size \(width)×\(height): width and height must be 1 to \(PNGEncoder.maximumDimension)"
        case .pixelCount(let width, let height, let bytes):
            "PNG \(width)×\(height) RGB needs \(width)×\(height)×3 bytes of pixels, got \(bytes)"
        case .compression(let error):
            "PNG IDAT: \(error.message)"
        }
    }
}
