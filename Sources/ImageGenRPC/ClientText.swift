/// Text that came from a peer (a method name, metadata, a project path), made safe to show:
/// cut to a byte bound at a UTF-8 boundary for status messages, and escaped and shortened for logs,
/// so a client cannot forge log lines, hide text with control characters, or grow a line without bound.
public enum ClientText {
    /// Characters of client text kept in a log line.
    public static let maxLoggedCharacters = 80

    /// `text` cut to at most `maxBytes` bytes of UTF-8, ending in "…" when it was cut; never splits
    /// a character's bytes.
    public static func truncated(_ text: String, maxBytes: Int) -> String {
        let utf8 = text.utf8
        guard utf8.count > maxBytes else { return text }
        let ellipsis = "…"
        let budget = max(0, maxBytes - ellipsis.utf8.count)
        var end = utf8.index(utf8.startIndex, offsetBy: budget)
        // Back up to the first byte of a scalar (continuation bytes are 0b10xxxxxx).
        while end > utf8.startIndex, (utf8[end] & 0xC0) == 0x80 { end = utf8.index(before: end) }
        return String(decoding: utf8[..<end], as: UTF8.self) + (budget + ellipsis.utf8.count <= maxBytes ? ellipsis : "")
    }

    /// `text` quoted for a log line: printable ASCII as is, `"` and `\` escaped, everything else as
    /// `\u{…}`; longer than ``maxLoggedCharacters`` is cut and says how long it was.
    public static func loggable(_ text: String) -> String {
        var out = "\""
        var shown = 0
        for scalar in text.unicodeScalars {
            if shown == maxLoggedCharacters {
                out += "…\" (\(text.utf8.count) bytes)"
                return out
            }
            shown += 1
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case " "..."~": out.unicodeScalars.append(scalar)
            default: out += "\\u{\(String(scalar.value, radix: 16))}"
            }
        }
        return out + "\""
    }
}
