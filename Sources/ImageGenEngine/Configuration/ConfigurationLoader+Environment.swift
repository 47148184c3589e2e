import Foundation

/// The environment's part of the configuration: keys per style, the base URL, the pace, offline settings.
extension ConfigurationLoader {
    mutating func apply(environment: [String: String]) {
        for name in environment.keys.sorted() where name.hasPrefix("IMAGEGEN_KEYS_") {
            let value = environment[name] ?? ""
            let styleToken = String(name.dropFirst("IMAGEGEN_KEYS_".count))
            guard let style = config.styles.first(where: { Self.environmentName($0.name) == styleToken }) else {
                problems.append(
                    "\(name): unknown style \(ValidatedStoryboard.quoted(styleToken.lowercased())) (known: \(config.styles.map(\.name).joined(separator: ", ")))"
                )
                continue
            }
            var entries: [KeyEntry] = []
            let parts = value.split(separator: ",", omittingEmptySubsequences: false)
            for (index, part) in parts.enumerated() {
                let text = part.trimmingCharacters(in: .whitespaces)
                if let entry = parseKeyEntry(text, place: "\(name) entry \(index + 1)") { entries.append(entry) }
            }
            keyEntries[style.name] = (name, entries)
        }
        if let url = environment["IMAGEGEN_GEMINI_BASE_URL"] { baseURL = url }
        if let text = environment["IMAGEGEN_KEY_RPM"] {
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            if trimmed == "auto" {
                defaultRPM = .some(nil)
                styleRPM = [:]
            } else if let rpm = Double(trimmed), rpm.isFinite, rpm >= 0 {
                defaultRPM = rpm
                styleRPM = [:]
            } else {
                problems.append("IMAGEGEN_KEY_RPM: \(ValidatedStoryboard.quoted(text)) must be a number of requests per minute, 0 or more, or \"auto\"")
            }
        }
        if let text = environment["IMAGEGEN_OFFLINE_LATENCY_MS"] {
            if let ms = Int(text), ms >= 0 { config.offline.latency = .milliseconds(ms) } else {
                problems.append("IMAGEGEN_OFFLINE_LATENCY_MS: \(ValidatedStoryboard.quoted(text)) must be a whole number of milliseconds, 0 or more")
            }
        }
        if let path = environment["IMAGEGEN_OFFLINE_RENDER_LOG"], !path.isEmpty { config.offline.renderLogPath = path }
    }

    /// `KEY` or `PROJECT:KEY`. The part before the first ":" is a project only when it is a Google
    /// Cloud project id (``isProjectID(_:)``); otherwise the whole entry is the key, so a secret
    /// that happens to contain ":" is never split and never printed as a project name.
    mutating func parseKeyEntry(_ text: String, place: String) -> KeyEntry? {
        if text.hasPrefix(":") {
            problems.append("\(place): project before \":\" is empty (use KEY or PROJECT:KEY)")
            return nil
        }
        if let colon = text.firstIndex(of: ":") {
            let project = String(text[..<colon]).trimmingCharacters(in: .whitespaces)
            if Self.isProjectID(project) {
                let secret = String(text[text.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
                if secret.isEmpty {
                    problems.append("\(place): key is empty (project \(ValidatedStoryboard.quoted(project)))")
                    return nil
                }
                return KeyEntry(project: project, secret: secret)
            }
        }
        if text.isEmpty {
            problems.append("\(place): key is empty")
            return nil
        }
        return KeyEntry(project: nil, secret: text)
    }

    /// Google Cloud's project id syntax: 6 to 30 characters, lowercase letters, digits and hyphens,
    /// starting with a letter and not ending with a hyphen.
    static func isProjectID(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (6...30).contains(bytes.count), let first = bytes.first, let last = bytes.last else { return false }
        let isLower = { (byte: UInt8) in byte >= 0x61 && byte <= 0x7A }
        let isDigit = { (byte: UInt8) in byte >= 0x30 && byte <= 0x39 }
        return isLower(first) && last != 0x2D && bytes.allSatisfy { isLower($0) || isDigit($0) || $0 == 0x2D }
    }

    static func environmentName(_ style: String) -> String {
        style.uppercased().replacingOccurrences(of: "-", with: "_")
    }
}
