import Foundation

/// The outcome of one benchmark scenario: named figures with units and meanings, the headline
/// ratios, and the command line that reproduces it. Printed as a table or as JSON.
struct BenchReport: Codable, Sendable {
    /// One measured or derived figure.
    struct Row: Codable, Sendable {
        var metric: String
        var value: Double
        var unit: String
        var note: String
        var headline: Bool
    }

    var scenario: String
    var command: String
    var rows: [Row] = []
    var notes: [String] = []

    init(scenario: String, command: String) {
        self.scenario = scenario
        self.command = command
    }

    /// Adds a figure; `headline` marks the ratios the scenario is about.
    mutating func add(_ metric: String, _ value: Double, _ unit: String = "", _ note: String = "", headline: Bool = false) {
        rows.append(Row(metric: metric, value: value, unit: unit, note: note, headline: headline))
    }

    /// The table: one line per figure, headline figures marked with `*`.
    func table() -> String {
        let metricWidth = max(6, rows.map(\.metric.count).max() ?? 6)
        let values = rows.map { Self.format($0.value) }
        let valueWidth = max(5, values.map(\.count).max() ?? 5)
        let unitWidth = max(4, rows.map(\.unit.count).max() ?? 4)
        var lines = ["== \(scenario) =="]
        lines.append(
            "  " + "metric".padding(toLength: metricWidth, withPad: " ", startingAt: 0) + "  "
                + String(repeating: " ", count: valueWidth - 5) + "value  "
                + "unit".padding(toLength: unitWidth, withPad: " ", startingAt: 0) + "  meaning")
        for (row, value) in zip(rows, values) {
            lines.append(
                (row.headline ? "* " : "  ") + row.metric.padding(toLength: metricWidth, withPad: " ", startingAt: 0)
                    + "  " + String(repeating: " ", count: valueWidth - value.count) + value + "  "
                    + row.unit.padding(toLength: unitWidth, withPad: " ", startingAt: 0) + "  " + row.note)
        }
        for note in notes { lines.append("  note: \(note)") }
        lines.append("  reproduce: \(command)")
        return lines.joined(separator: "\n")
    }

    /// The report as one JSON document.
    func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard let data = try? encoder.encode(self), let text = String(data: data, encoding: .utf8) else { return "{}" }
        return text
    }

    /// Prints the table, then the JSON when asked.
    func print(json: Bool) {
        Swift.print(table())
        if json { Swift.print(self.json()) }
    }

    /// A number with 4 significant digits (integers as integers).
    static func format(_ value: Double) -> String {
        if value.isNaN || value.isInfinite { return "\(value)" }
        if value == value.rounded() && abs(value) < 1e12 { return String(Int64(value)) }
        let magnitude = abs(value)
        if magnitude >= 100 { return String(format: "%.1f", value) }
        if magnitude >= 1 { return String(format: "%.3f", value) }
        return String(format: "%.4g", value)
    }
}
