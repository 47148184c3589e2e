public import Foundation

/// Names image bytes by their magic numbers, whatever the response declared: the one sniffer
/// the providers (what came back) and the engine (what it writes and attaches) share.
public enum ImageSniffer {
    /// "image/png", "image/jpeg", "image/webp" or "image/gif"; nil for anything else.
    public static func mimeType(of data: Data) -> String? {
        let bytes = [UInt8](data.prefix(12))
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return "image/png" }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return "image/jpeg" }
        if bytes.count >= 12, bytes.starts(with: Array("RIFF".utf8)), Array(bytes[8..<12]) == Array("WEBP".utf8) {
            return "image/webp"
        }
        if bytes.starts(with: Array("GIF8".utf8)) { return "image/gif" }
        return nil
    }

    /// "image/png" or "image/jpeg", the formats the engine stores and attaches; nil for anything else.
    static func pngOrJPEG(_ data: Data) -> String? {
        switch mimeType(of: data) {
        case "image/png": return "image/png"
        case "image/jpeg": return "image/jpeg"
        default: return nil
        }
    }
}
