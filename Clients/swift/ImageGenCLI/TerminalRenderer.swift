import Foundation

/// Draws a ``ProgressBoard`` in a terminal: one bar per style and the overall message, redrawn in
/// place with ANSI escapes.
public struct TerminalRenderer: Sendable {
    public var width: Int
    private var linesDrawn = 0

    public init(width: Int = 100) {
        self.width = max(60, width)
    }

    /// The text to write to redraw the board in place of the previous drawing.
    public mutating func redraw(_ board: ProgressBoard) -> String {
        var output = ""
        if linesDrawn > 0 { output += "\u{1B}[\(linesDrawn)A" }  // back to the first line drawn
        let lines = Self.lines(board, width: width)
        for line in lines { output += "\u{1B}[2K" + line + "\n" }
        linesDrawn = lines.count
        return output
    }

    /// The lines of a drawing, without escapes (tests read these).
    public static func lines(_ board: ProgressBoard, width: Int) -> [String] {
        let nameWidth = max(12, board.styles.map(\.style.count).max() ?? 0)
        let barWidth = max(10, min(40, width - nameWidth - 60))
        var lines: [String] = []
        if !board.jobID.isEmpty { lines.append("job \(board.jobID)") }
        for line in board.styles {
            let fraction = line.total == 0 ? 1 : min(1, Double(line.completed) / Double(line.total))
            let filled = Int((fraction * Double(barWidth)).rounded(.down))
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: barWidth - filled)
            var text = line.style.padding(toLength: nameWidth, withPad: " ", startingAt: 0)
            text += " [\(bar)] \(line.completed)/\(line.total) " + String(format: "%5.1f%%", line.percent)
            if let rate = line.rate { text += String(format: " %.2f img/s", rate) }
            if let eta = line.etaSeconds, line.completed + line.failed < line.total { text += " ETA " + formatDuration(eta) }
            if line.failed > 0 { text += " failed \(line.failed)" }
            if line.inBatch > 0 { text += " \(line.inBatch) in batch" + (line.batchState.map { ", \($0)" } ?? "") }
            if line.keysCooling > 0 { text += " cooling \(line.keysCooling)/\(line.keysTotal) keys" }
            if line.keysDisabled > 0 { text += " disabled \(line.keysDisabled)" }
            lines.append(text)
        }
        if !board.message.isEmpty {
            let message = board.message.replacingOccurrences(of: "\n", with: " ")
            lines.append(String(message.prefix(width)))
        }
        return lines
    }

    /// "1h02m", "3m05s", "42s".
    public static func formatDuration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        if total >= 3600 { return String(format: "%dh%02dm", total / 3600, (total % 3600) / 60) }
        if total >= 60 { return String(format: "%dm%02ds", total / 60, total % 60) }
        return "\(total)s"
    }
}

/// `formatDuration` for callers outside the renderer.
func formatDuration(_ seconds: Double) -> String { TerminalRenderer.formatDuration(seconds) }
