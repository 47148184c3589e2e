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

            /// Whether its value is a number of requests of one model (…RequestsPerMinutePerProjectPerModel…),
            /// which the engine can pace a (project, model) by; a token quota or a project-wide one is not.
            var countsRequestsPerModel: Bool { quotaID.contains("Requests") && quotaID.contains("PerModel") }
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
        /// tomorrow); else a per-minute one, whose limit is stated only when it counts one model's
        /// requests (the strictest such); else a bare 429.
        func rateLimit(message: String) -> RateLimit {
            if let perDay = violations.first(where: { $0.window == .day }) {
                return RateLimit(retryAfter: retryDelay, window: .day, limit: perDay.value, model: perDay.model, message: message)
            }
            let perMinute = violations.filter { $0.window == .minute }
            guard !perMinute.isEmpty else { return RateLimit(retryAfter: retryDelay, message: message) }
            let requests = perMinute.filter(\.countsRequestsPerModel).min { ($0.value ?? .max) < ($1.value ?? .max) }
            return RateLimit(
                retryAfter: retryDelay, window: .minute, limit: requests?.value, model: requests?.model ?? perMinute[0].model,
                message: message)
        }
    }
}
