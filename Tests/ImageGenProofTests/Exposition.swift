import Foundation

/// A Prometheus text exposition as scraped, parsed strictly: every sample's family has a TYPE
/// line, names and label names are valid, values are numbers. `problems` lists what is not.
struct Exposition: Sendable {
    struct Sample: Sendable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    var types: [String: String] = [:]
    var samples: [Sample] = []
    var problems: [String] = []

    init(_ text: String) {
        for line in text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                guard parts.count == 4 else { problems.append("bad TYPE line: \(line)"); continue }
                types[String(parts[2])] = String(parts[3])
            } else if line.hasPrefix("#") {
                continue
            } else if let sample = Self.sample(line) {
                samples.append(sample)
            } else {
                problems.append("bad sample line: \(line)")
            }
        }
        for sample in samples {
            guard let family = family(of: sample.name), let type = types[family] else {
                problems.append("\(sample.name) has no TYPE line")
                continue
            }
            if !["counter", "gauge", "histogram"].contains(type) { problems.append("\(family): type \(type)") }
            if !Self.isName(sample.name, colons: true) { problems.append("bad metric name \(sample.name)") }
            for label in sample.labels.keys where !Self.isName(label, colons: false) { problems.append("bad label name \(label)") }
        }
    }

    /// The family a sample belongs to (a histogram's `_bucket`, `_sum` and `_count` belong to it).
    func family(of name: String) -> String? {
        if types[name] != nil { return name }
        for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
            let base = String(name.dropLast(suffix.count))
            if types[base] == "histogram" { return base }
        }
        return nil
    }

    /// The sum of the samples named `name` whose labels include `labels`.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double {
        samples.filter { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }
            .reduce(0) { $0 + $1.value }
    }

    /// The label sets of the samples named `name`.
    func labelSets(_ name: String) -> [[String: String]] { samples.filter { $0.name == name }.map(\.labels) }

    static func isName(_ text: String, colons: Bool) -> Bool {
        guard let first = text.unicodeScalars.first, first == "_" || (first.isASCII && CharacterSet.letters.contains(first)) else {
            return false
        }
        return text.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "_" || (colons && $0 == ":")) }
    }

    /// `name{a="b",c="d"} value` or `name value`; nil when it does not parse.
    static func sample(_ line: String) -> Sample? {
        var rest = Substring(line)
        let nameEnd = rest.firstIndex { $0 == "{" || $0 == " " } ?? rest.endIndex
        let name = String(rest[..<nameEnd])
        rest = rest[nameEnd...]
        var labels: [String: String] = [:]
        if rest.first == "{" {
            rest = rest.dropFirst()
            while rest.first != "}" {
                guard let equals = rest.firstIndex(of: "=") else { return nil }
                let key = String(rest[..<equals])
                rest = rest[rest.index(after: equals)...]
                guard rest.first == "\"" else { return nil }
                rest = rest.dropFirst()
                var value = ""
                while let c = rest.first, c != "\"" {
                    if c == "\\" { rest = rest.dropFirst(); guard let escaped = rest.first else { return nil }; value.append(escaped == "n" ? "\n" : escaped) } else { value.append(c) }
                    rest = rest.dropFirst()
                }
                guard rest.first == "\"" else { return nil }
                rest = rest.dropFirst()
                labels[key] = value
                if rest.first == "," { rest = rest.dropFirst() }
                if rest.isEmpty { return nil }
            }
            rest = rest.dropFirst()
        }
        guard rest.first == " " else { return nil }
        let text = rest.dropFirst().split(separator: " ").first.map(String.init) ?? ""
        let value: Double? = switch text {
        case "+Inf": .infinity
        case "-Inf": -.infinity
        case "NaN": .nan
        default: Double(text)
        }
        guard !name.isEmpty, let value else { return nil }
        return Sample(name: name, labels: labels, value: value)
    }
}
