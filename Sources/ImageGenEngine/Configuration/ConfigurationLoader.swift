import Foundation

/// Builds an ``EngineConfiguration`` step by step, collecting problems instead of stopping at the first.
struct ConfigurationLoader {
    var config = EngineConfiguration()
    var problems: [String] = []
    /// Key entries per style, from the file (replaced by the environment).
    var keyEntries: [String: (source: String, entries: [KeyEntry])] = [:]
    /// The top-level `requestsPerMinute`: nil when not given, `.some(nil)` for "auto".
    var defaultRPM: Double??
    var baseURL: String = EngineConfiguration.defaultBaseURL
    var styleRPM: [String: Double?] = [:]
    /// The top-level `delivery` and batch timings, for styles the file adds.
    var defaultLane: (delivery: Delivery?, batch: BatchSettings) = (nil, BatchSettings())

    struct KeyEntry {
        var project: String?
        var secret: String
    }

    static let topKeys: Set<String> = Set<String>([
        "geminiBaseURL", "requestsPerMinute", "maxInFlightPerProject", "maxConcurrentRequests",
        "requestTimeoutSeconds", "durability", "journalCompactionLines", "retry", "offline", "styles", "paceMarginPercent",
        "maxStoryboardBytes", "maxReferenceImageBytes", "prices", "batchPrices", "quotas",
        "$comment",
    ]).union(batchKeys)
    static let styleKeys: Set<String> = Set<String>([
        "template", "model", "aspectRatio", "imageSize", "continuity", "styleReference", "keys",
        "requestsPerMinute", "maxInFlightPerProject", "requestTimeoutSeconds", "retry", "$comment",
    ]).union(batchKeys)
    static let retryKeys: Set<String> = [
        "maxAttempts", "maxUnknownOutcomeAttempts", "maxRateLimitedAttempts", "maxNoImageAttempts", "baseDelaySeconds",
        "maxDelaySeconds",
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
        if let rpm = pace(object, "requestsPerMinute", at: "") { defaultRPM = rpm }
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
        if let raw = object["prices"] { parsePrices(raw) }
        if let raw = object["batchPrices"] { parsePrices(raw, field: "batchPrices") }
        if let raw = object["quotas"] { parseQuotas(raw) }
        let delivery = delivery(object, at: "")
        let batch = batchSettings(object, base: BatchSettings(), at: "")
        defaultLane = (delivery, batch)
        for index in config.styles.indices {
            config.styles[index].retry = retry
            config.styles[index].batch = batch
            if let delivery { config.styles[index].delivery = delivery }
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
            style = StyleConfiguration(
                name: name, promptTemplate: template, retry: retry, delivery: defaultLane.delivery ?? .online,
                batch: defaultLane.batch)
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
        if let rpm = pace(object, "requestsPerMinute", at: at + ".") { styleRPM[name] = rpm }
        if let cap = integer(object, "maxInFlightPerProject", at: at + ".", min: 1) { style.maxInFlightPerProject = cap }
        if let seconds = number(object, "requestTimeoutSeconds", at: at + ".", min: 0.001) {
            style.requestTimeout = .milliseconds(Int64(seconds * 1000))
        }
        if let raw = object["retry"] { style.retry = parseRetry(raw, base: style.retry, at: at + ".retry") }
        if let lane = delivery(object, at: at + ".") { style.delivery = lane }
        style.batch = batchSettings(object, base: style.batch, at: at + ".")
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
}
