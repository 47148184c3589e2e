import Foundation
import ImageGenEngine

extension GeminiResponseDecoder {
    /// What an error's `details` say: ErrorInfo reasons, QuotaFailure violations, RetryInfo's delay.
    struct ErrorDetails {
        var reasons: [String] = []
        var violations: [Violation] = []
        var retryDelay: Duration?

        /// One `QuotaFailure` violation: its `quotaId`, `quotaValue` and `quotaDimensions.model`.
        struct Violation {
            let quotaID: String
            let value: Int?
            let model: String?

            var window: RateLimit.Window? {
                if quotaID.contains("PerDay") { return .day }
                if quotaID.contains("PerMinute") { return .minute }
                return nil
            }
        }

        init() {}

        init(_ details: [[String: Any]]) {
            for detail in details {
                let type = detail["@type"] as? String ?? ""
                if type.hasSuffix("google.rpc.ErrorInfo"), let reason = detail["reason"] as? String {
                    reasons.append(reason)
                } else if type.hasSuffix("google.rpc.QuotaFailure") {
                    for violation in detail["violations"] as? [[String: Any]] ?? [] {
                        guard let quotaID = violation["quotaId"] as? String else { continue }
                        let model = (violation["quotaDimensions"] as? [String: Any])?["model"] as? String
                        violations.append(Violation(quotaID: quotaID, value: Self.quotaValue(violation["quotaValue"]), model: model))
                    }
                } else if type.hasSuffix("google.rpc.RetryInfo") {
                    retryDelay = GeminiResponseDecoder.parseProtobufDuration(detail["retryDelay"])
                }
            }
        }

        /// `quotaValue` is an int64 in JSON: a string ("10"), sometimes a number; nil unless a positive whole number.
        static func quotaValue(_ value: Any?) -> Int? {
            let parsed: Int?
            if let text = value as? String { parsed = Int(text.trimmingCharacters(in: .whitespaces)) }
            else if let number = value as? NSNumber, number.doubleValue == number.doubleValue.rounded() { parsed = number.intValue }
            else { parsed = nil }
            return parsed.flatMap { $0 > 0 ? $0 : nil }
        }

        /// What a 429 with these details says: a per-day violation wins (the quota is spent until
        /// tomorrow); else the strictest per-minute one; else a bare 429.
        func rateLimit(message: String) -> RateLimit {
            let perDay = violations.first { $0.window == .day }
            let perMinute = violations.filter { $0.window == .minute }.min { ($0.value ?? .max) < ($1.value ?? .max) }
            let chosen = perDay ?? perMinute
            return RateLimit(
                retryAfter: retryDelay, window: chosen?.window, limit: chosen?.value, model: chosen?.model, message: message)
        }
    }
}
