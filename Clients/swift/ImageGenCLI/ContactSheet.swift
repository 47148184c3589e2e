public import Foundation
import ImageGenClient
public import ImageGenEngine
public import ImageGenWire

/// An HTML page for comparing a project's styles at a glance: one row per beat in storyboard
/// order, one column per style, each cell the image or why it is missing.
public enum ContactSheet {
    /// Writes `contact_sheet.html` into `project` and returns its URL.
    public static func write(project: URL, storyboard: Storyboard, styles: [String]) async throws -> URL {
        var records: [String: [String: BeatRecord]] = [:]
        for style in styles {
            let list = try await ProjectRecords.read(project: project, style: style)
            records[style] = Dictionary(list.map { ($0.key, $0) }, uniquingKeysWith: { _, last in last })
        }
        let html = render(storyboard: storyboard, styles: styles, records: records, title: project.lastPathComponent)
        let url = project.appendingPathComponent("contact_sheet.html")
        try Data(html.utf8).write(to: url, options: .atomic)
        return url
    }

    /// The page's HTML. Image paths are relative to the project, so the page works where it lies.
    public static func render(
        storyboard: Storyboard, styles: [String], records: [String: [String: BeatRecord]], title: String
    ) -> String {
        var rows = ""
        for shot in storyboard.shots {
            for beat in shot.beats {
                let key = "\(shot.id)/\(beat.id)"
                var cells = "<th><div class=id>\(escape(shot.id)) / \(escape(beat.id))</div><div class=tr>\(beat.transition.jsonName)</div><div class=prompt>\(escape(beat.prompt))</div></th>"
                for style in styles {
                    let record = records[style]?[key]
                    if let record, record.state == .done, let file = record.file {
                        cells += "<td><a href=\"\(escape(file))\"><img src=\"\(escape(file))\" loading=lazy alt=\"\(escape(style)) \(escape(key))\"></a>\(cost(record))</td>"
                    } else if let record, record.state == .failed {
                        cells += "<td class=failed>failed: \(escape(record.lastError ?? "no reason recorded"))\(cost(record))</td>"
                    } else if let record, record.lane == .batch, let batch = record.batch {
                        cells += "<td class=pending>in batch \(escape(batch))</td>"
                    } else {
                        cells += "<td class=pending>not generated yet</td>"
                    }
                }
                rows += "<tr>\(cells)</tr>\n"
            }
        }
        let header = styles.map { style in
            let spent = records[style]?.values.reduce(0) { $0 + ($1.estimatedCostUSD ?? 0) } ?? 0
            return "<th>\(escape(style))<div class=cost>\(String(format: "$%.3f", spent)) estimated</div></th>"
        }.joined()
        return """
            <!doctype html>
            <html><head><meta charset="utf-8"><title>\(escape(title)) — contact sheet</title>
            <style>
            body{font-family:system-ui,sans-serif;margin:1.5em;background:#fafafa}
            table{border-collapse:collapse} th,td{border:1px solid #ddd;padding:6px;vertical-align:top}
            thead th{background:#eee;position:sticky;top:0} tbody th{text-align:left;width:18em;font-weight:normal}
            .id{font-weight:bold} .tr{color:#777;font-size:.85em} .prompt{font-size:.9em}
            img{max-width:320px;display:block} .cost{color:#777;font-size:.8em;font-weight:normal} .failed{color:#b00020;max-width:320px} .pending{color:#999}
            </style></head><body>
            <h1>\(escape(title))</h1>
            <table><thead><tr><th>beat</th>\(header)</tr></thead><tbody>
            \(rows)</tbody></table></body></html>

            """
    }

    /// "online, 1 billed request, $0.067", under an image; nothing for records before lanes.
    static func cost(_ record: BeatRecord) -> String {
        guard let billed = record.billedRequests, let dollars = record.estimatedCostUSD else { return "" }
        let lane = record.lane?.rawValue ?? "online"
        return "<div class=cost>\(lane), \(billed) billed request\(billed == 1 ? "" : "s"), \(String(format: "$%.3f", dollars))</div>"
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
