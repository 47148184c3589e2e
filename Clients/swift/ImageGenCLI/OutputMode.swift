/// How `generate` and `watch` show events: live bars in a terminal, one plain line per event
/// otherwise, or JSON lines with `--json`.
public enum OutputMode: Sendable, Equatable {
    case bars(width: Int)
    case plain
    case json

    /// Bars when standard output is a terminal, plain lines otherwise; JSON when asked.
    public static func choose(json: Bool) -> OutputMode {
        if json { return .json }
        guard isatty(STDOUT_FILENO) == 1 else { return .plain }
        var size = winsize()
        let width = ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 ? Int(size.ws_col) : 100
        return .bars(width: width)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
