import Foundation

/// Reading typed values out of the JSON, each problem named by its place.
extension ConfigurationLoader {
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

    /// A pace: a number of requests per minute, 0 or more, or "auto" (`.some(nil)`: learn it); nil when absent or wrong.
    mutating func pace(_ object: [String: Any], _ key: String, at prefix: String) -> Double?? {
        if let text = object[key] as? String {
            guard text == "auto" else {
                problems.append("\(prefix)\(key): must be a number of requests per minute or \"auto\", not \(ValidatedStoryboard.quoted(text))")
                return nil
            }
            return .some(nil)
        }
        return number(object, key, at: prefix, min: 0).map { .some($0) }
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
        if let value = integer(object, "maxNoImageAttempts", at: prefix + ".", min: 1) { policy.maxNoImageAttempts = value }
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
