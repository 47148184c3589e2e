public import Foundation

extension EngineConfiguration {
    /// Loads the configuration: built-in defaults, then the JSON `file` (if any), then the
    /// environment (`IMAGEGEN_KEYS_<STYLE>`, `IMAGEGEN_GEMINI_BASE_URL`, `IMAGEGEN_KEY_RPM`,
    /// `IMAGEGEN_OFFLINE_LATENCY_MS`, `IMAGEGEN_OFFLINE_RENDER_LOG`). Every problem is reported at
    /// once in an ``EngineError`` with code `.invalidConfiguration`; key secrets never appear in it.
    /// Blocking (a small file read): call it at start-up.
    public static func load(file: URL?, environment: [String: String]) throws(EngineError) -> EngineConfiguration {
        var loader = ConfigurationLoader()
        if let file {
            let data: Data
            do { data = try Data(contentsOf: file) } catch {
                throw EngineError(
                    .invalidConfiguration, "cannot read configuration file \(file.path): \(error.localizedDescription)")
            }
            loader.apply(fileData: data, source: file.lastPathComponent)
        }
        loader.apply(environment: environment)
        return try loader.finish()
    }

    /// Parses a configuration from JSON text plus an environment (for tests and embedding).
    public static func parse(json data: Data, environment: [String: String] = [:]) throws(EngineError)
        -> EngineConfiguration
    {
        var loader = ConfigurationLoader()
        loader.apply(fileData: data, source: "configuration")
        loader.apply(environment: environment)
        return try loader.finish()
    }
}

/// Builds an ``EngineConfiguration`` step by step, collecting problems instead of stopping at the first.
struct ConfigurationLoader {
    var config = EngineConfiguration()
    var problems: [String] = []
    /// Key entries per style, from the file (replaced by the environment).
    var keyEntries: [String: (source: String, entries: [KeyEntry])] = [:]
    var defaultRPM: Double?
    var baseURL: String = EngineConfiguration.defaultBaseURL
    var styleRPM: [String: Double] = [:]

    struct KeyEntry {
        var project: String?
        var secret: String
    }

    static let topKeys: Set<String> = [
        "geminiBaseURL", "requestsPerMinute", "maxInFlightPerProject", "maxConcurrentRequests",
        "requestTimeoutSeconds", "durability", "journalCompactionLines", "retry", "offline", "styles", "paceMarginPercent",
        "maxStoryboardBytes", "maxReferenceImageBytes",
        "$comment",
    ]
    static let styleKeys: Set<String> = [
        "template", "model", "aspectRatio", "imageSize", "continuity", "styleReference", "keys",
        "requestsPerMinute", "maxInFlightPerProject", "requestTimeoutSeconds", "retry", "$comment",
    ]
    static let retryKeys: Set<String> = [
        "maxAttempts", "maxUnknownOutcomeAttempts", "maxRateLimitedAttempts", "baseDelaySeconds", "maxDelaySeconds",
    ]
    static let offlineKeys: Set<String> = ["width", "height", "latencyMilliseconds", "concurrency", "renderLogPath"]
    static let aspectRatios: Set<String> = ["1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"]
    static let imageSizes: Set<String> = ["1K", "2K", "4K"]

    mutating func apply(fileData: Data, source: String) {
        let root: Any
        do { root = try JSONSerialization.jsonObject(with: fileData, options: []) } catch {
            problems.append("\(source): not valid JSON: \(error.localizedDescription)")
            return
        }
        guard let object = root as? [String: Any] else {
            problems.append("\(source): the top level must be an object")
            return
        }
        checkKeys(object, allowed: Self.topKeys, at: "")
        if let url = string(object, "geminiBaseURL", at: "") { baseURL = url }
        if let rpm = number(object, "requestsPerMinute", at: "", min: 0) { defaultRPM = rpm }
        let inFlight = integer(object, "maxInFlightPerProject", at: "", min: 1)
        if let cap = integer(object, "maxConcurrentRequests", at: "", min: 1) { config.maxConcurrentRequests = cap }
        let timeout = number(object, "requestTimeoutSeconds", at: "", min: 0.001)
        if let durability = string(object, "durability", at: "") {
            if let value = EngineConfiguration.Durability(rawValue: durability) {
                config.durability = value
            } else {
                problems.append("durability: must be \"full\" or \"none\", not \(ValidatedStoryboard.quoted(durability))")
            }
        }
        if let lines = integer(object, "journalCompactionLines", at: "", min: 1) { config.journalCompactionLines = lines }
        if let bytes = integer(object, "maxStoryboardBytes", at: "", min: 1024) { config.maxStoryboardBytes = bytes }
        if let bytes = integer(object, "maxReferenceImageBytes", at: "", min: 1024) { config.maxReferenceImageBytes = bytes }
        if let margin = number(object, "paceMarginPercent", at: "", min: 0) {
            if margin <= 100 {
                config.paceMarginPercent = margin
            } else {
                problems.append("paceMarginPercent: must be between 0 and 100, not \(margin)")
            }
        }
        var retry = RetryPolicy()
        if let raw = object["retry"] { retry = parseRetry(raw, base: retry, at: "retry") }
        if let raw = object["offline"] { parseOffline(raw) }
        for index in config.styles.indices {
            config.styles[index].retry = retry
            if let inFlight { config.styles[index].maxInFlightPerProject = inFlight }
            if let timeout { config.styles[index].requestTimeout = .milliseconds(Int64(timeout * 1000)) }
        }
        if let rawStyles = object["styles"] {
            guard let styles = rawStyles as? [String: Any] else {
                problems.append("styles: must be an object keyed by style name")
                return
            }
            for name in styles.keys.sorted() {
                parseStyle(name: name, raw: styles[name] as Any, retry: retry, inFlight: inFlight, timeout: timeout)
            }
        }
    }

    mutating func parseStyle(name: String, raw: Any, retry: RetryPolicy, inFlight: Int?, timeout: Double?) {
        let at = "styles.\(name)"
        guard let object = raw as? [String: Any] else {
            problems.append("\(at): must be an object")
            return
        }
        checkKeys(object, allowed: Self.styleKeys, at: at + ".")
        var style: StyleConfiguration
        if let existing = config.style(named: name) {
            style = existing
        } else {
            guard Self.isValidStyleName(name) else {
                problems.append("\(at): style name must be 1-32 characters from a-z 0-9 _ -")
                return
            }
            guard let template = object["template"] as? String else {
                problems.append(
                    "\(at): unknown style \(ValidatedStoryboard.quoted(name)) (known: \(config.styles.map(\.name).joined(separator: ", "))); a new style needs a \"template\""
                )
                return
            }
            style = StyleConfiguration(name: name, promptTemplate: template, retry: retry)
            if let inFlight { style.maxInFlightPerProject = inFlight }
            if let timeout { style.requestTimeout = .milliseconds(Int64(timeout * 1000)) }
        }
        if let template = string(object, "template", at: at + ".") {
            if template.allSatisfy(\.isWhitespace) {
                problems.append("\(at).template: must not be empty")
            } else {
                style.promptTemplate = template
            }
        }
        if let model = string(object, "model", at: at + ".") {
            if model.isEmpty || model.contains("/") || model.contains(" ") {
                problems.append("\(at).model: \(ValidatedStoryboard.quoted(model)) is not a model name")
            } else {
                style.model = model
            }
        }
        if let ratio = string(object, "aspectRatio", at: at + ".") {
            if Self.aspectRatios.contains(ratio) { style.aspectRatio = ratio } else {
                problems.append("\(at).aspectRatio: \(ValidatedStoryboard.quoted(ratio)) is not one of \(Self.aspectRatios.sorted().joined(separator: ", "))")
            }
        }
        if let size = string(object, "imageSize", at: at + ".") {
            if Self.imageSizes.contains(size) { style.imageSize = size } else {
                problems.append("\(at).imageSize: \(ValidatedStoryboard.quoted(size)) must be 1K, 2K or 4K")
            }
        }
        if let continuity = bool(object, "continuity", at: at + ".") { style.continuity = continuity }
        if let reference = bool(object, "styleReference", at: at + ".") { style.attachStyleReference = reference }
        if let rpm = number(object, "requestsPerMinute", at: at + ".", min: 0) { styleRPM[name] = rpm }
        if let cap = integer(object, "maxInFlightPerProject", at: at + ".", min: 1) { style.maxInFlightPerProject = cap }
        if let seconds = number(object, "requestTimeoutSeconds", at: at + ".", min: 0.001) {
            style.requestTimeout = .milliseconds(Int64(seconds * 1000))
        }
        if let raw = object["retry"] { style.retry = parseRetry(raw, base: style.retry, at: at + ".retry") }
        if let raw = object["keys"] {
            if let list = raw as? [Any] {
                var entries: [KeyEntry] = []
                for (index, item) in list.enumerated() {
                    let place = "\(at).keys[\(index)]"
                    if let text = item as? String {
                        if let entry = parseKeyEntry(text, place: place) { entries.append(entry) }
                    } else if let object = item as? [String: Any] {
                        checkKeys(object, allowed: ["key", "project"], at: place + ".")
                        let project = object["project"] as? String
                        if let secret = object["key"] as? String, !secret.isEmpty {
                            if let project, project.isEmpty {
                                problems.append("\(place).project: must not be empty")
                            } else {
                                entries.append(KeyEntry(project: project, secret: secret))
                            }
                        } else {
                            problems.append("\(place): \"key\" must be a non-empty string")
                        }
                    } else {
                        problems.append("\(place): must be a string \"KEY\" or \"PROJECT:KEY\", or {\"key\":…,\"project\":…}")
                    }
                }
                keyEntries[name] = (at + ".keys", entries)
            } else {
                problems.append("\(at).keys: must be an array")
            }
        }
        if let index = config.styles.firstIndex(where: { $0.name == name }) {
            config.styles[index] = style
        } else {
            config.styles.append(style)
        }
    }

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
            if let rpm = Double(text.trimmingCharacters(in: .whitespaces)), rpm.isFinite, rpm >= 0 {
                defaultRPM = rpm
                styleRPM = [:]
            } else {
                problems.append("IMAGEGEN_KEY_RPM: \(ValidatedStoryboard.quoted(text)) must be a number of requests per minute, 0 or more")
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

    mutating func finish() throws(EngineError) -> EngineConfiguration {
        // Empty key entries are reported here so the message can name the place without the secret.
        if !Self.isValidBaseURL(baseURL) {
            problems.append("gemini base URL \(ValidatedStoryboard.quoted(baseURL)) must be an http or https URL with a host")
        }
        for index in config.styles.indices {
            let name = config.styles[index].name
            config.styles[index].baseURL = baseURL
            if let rpm = styleRPM[name] ?? defaultRPM { config.styles[index].requestsPerMinute = rpm }
            if let (_, entries) = keyEntries[name] {
                config.styles[index].keys = entries.enumerated().map { offset, entry in
                    APIKey(secret: entry.secret, project: entry.project, style: name, index: offset + 1)
                }
            }
        }
        if !problems.isEmpty {
            throw EngineError(
                .invalidConfiguration,
                "configuration has \(problems.count) problem\(problems.count == 1 ? "" : "s")", problems: problems)
        }
        return config
    }

    // MARK: helpers

    static func environmentName(_ style: String) -> String {
        style.uppercased().replacingOccurrences(of: "-", with: "_")
    }

    static func isValidStyleName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 32
            && name.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F || $0 == 0x2D }
    }

    static func isValidBaseURL(_ text: String) -> Bool {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty,
            components.query == nil, components.fragment == nil
        else { return false }
        return true
    }

    mutating func checkKeys(_ object: [String: Any], allowed: Set<String>, at prefix: String) {
        for key in object.keys.sorted() where !allowed.contains(key) {
            problems.append("\(prefix)\(key): unknown setting (allowed: \(allowed.filter { $0 != "$comment" }.sorted().joined(separator: ", ")))")
        }
    }

    mutating func string(_ object: [String: Any], _ key: String, at prefix: String) -> String? {
        guard let raw = object[key] else { return nil }
        if let value = raw as? String { return value }
        problems.append("\(prefix)\(key): must be a string")
        return nil
    }

    mutating func bool(_ object: [String: Any], _ key: String, at prefix: String) -> Bool? {
        guard let raw = object[key] else { return nil }
        if !(raw is String), let value = raw as? Bool { return value }
        problems.append("\(prefix)\(key): must be true or false")
        return nil
    }

    mutating func number(_ object: [String: Any], _ key: String, at prefix: String, min: Double) -> Double? {
        guard let raw = object[key] else { return nil }
        if raw is String || raw is NSNull {
            problems.append("\(prefix)\(key): must be a number")
            return nil
        }
        guard let value = (raw as? NSNumber)?.doubleValue, value.isFinite else {
            problems.append("\(prefix)\(key): must be a number")
            return nil
        }
        guard value >= min else {
            problems.append("\(prefix)\(key): \(value) must be \(min == 0 ? "0 or more" : "more than 0")")
            return nil
        }
        return value
    }

    mutating func integer(_ object: [String: Any], _ key: String, at prefix: String, min: Int) -> Int? {
        guard let value = number(object, key, at: prefix, min: Double(min)) else { return nil }
        guard value == value.rounded(), value < 1e9 else {
            problems.append("\(prefix)\(key): must be a whole number")
            return nil
        }
        return Int(value)
    }

    mutating func parseRetry(_ raw: Any, base: RetryPolicy, at prefix: String) -> RetryPolicy {
        guard let object = raw as? [String: Any] else {
            problems.append("\(prefix): must be an object")
            return base
        }
        checkKeys(object, allowed: Self.retryKeys, at: prefix + ".")
        var policy = base
        if let value = integer(object, "maxAttempts", at: prefix + ".", min: 1) { policy.maxAttempts = value }
        if let value = integer(object, "maxUnknownOutcomeAttempts", at: prefix + ".", min: 0) {
            policy.maxUnknownOutcomeAttempts = value
        }
        if let value = integer(object, "maxRateLimitedAttempts", at: prefix + ".", min: 1) {
            policy.maxRateLimitedAttempts = value
        }
        if let value = number(object, "baseDelaySeconds", at: prefix + ".", min: 0) {
            policy.baseDelay = .milliseconds(Int64(value * 1000))
        }
        if let value = number(object, "maxDelaySeconds", at: prefix + ".", min: 0) {
            policy.maxDelay = .milliseconds(Int64(value * 1000))
        }
        return policy
    }

    mutating func parseOffline(_ raw: Any) {
        guard let object = raw as? [String: Any] else {
            problems.append("offline: must be an object")
            return
        }
        checkKeys(object, allowed: Self.offlineKeys, at: "offline.")
        if let value = integer(object, "width", at: "offline.", min: 8) { config.offline.width = min(value, 4096) }
        if let value = integer(object, "height", at: "offline.", min: 8) { config.offline.height = min(value, 4096) }
        if let value = integer(object, "latencyMilliseconds", at: "offline.", min: 0) {
            config.offline.latency = .milliseconds(value)
        }
        if let value = integer(object, "concurrency", at: "offline.", min: 1) { config.offline.concurrency = value }
        if let value = string(object, "renderLogPath", at: "offline.") { config.offline.renderLogPath = value }
    }
}
