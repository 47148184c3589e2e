import Foundation
import ImageGenPNG

/// The bodies the fake answers, in Gemini's real shapes (camelCase, the google.rpc error envelope).
enum FakeGeminiPayloads {
    static func json(_ object: Any) -> Data {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
    }

    static func jsonReply(_ status: Int, _ object: Any) -> FakeGeminiReply {
        .http(status: status, contentType: "application/json; charset=UTF-8", body: json(object))
    }

    /// `{"error":{"code","message","status","details"?}}`.
    static func error(_ code: Int, _ status: String, _ message: String, details: [[String: Any]]? = nil) -> FakeGeminiReply {
        var error: [String: Any] = ["code": code, "message": message, "status": status]
        if let details { error["details"] = details }
        return jsonReply(code, ["error": error])
    }

    static func invalidArgument(_ message: String, field: String? = nil) -> FakeGeminiReply {
        var details: [[String: Any]]?
        if let field {
            details = [[
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [["field": field, "description": message]],
            ]]
        }
        return error(400, "INVALID_ARGUMENT", message, details: details)
    }

    static func invalidKey() -> FakeGeminiReply {
        error(
            400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.",
            details: [
                [
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
                    "domain": "googleapis.com", "metadata": ["service": "generativelanguage.googleapis.com"],
                ],
                [
                    "@type": "type.googleapis.com/google.rpc.LocalizedMessage", "locale": "en-US",
                    "message": "API key not valid. Please pass a valid API key.",
                ],
            ])
    }

    static func forbidden() -> FakeGeminiReply {
        error(403, "PERMISSION_DENIED", "Your API key was reported as leaked. Please use another API key.")
    }

    static func missingKey() -> FakeGeminiReply {
        error(
            403, "PERMISSION_DENIED",
            "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API."
        )
    }

    static func modelNotFound(_ model: String) -> FakeGeminiReply {
        error(
            404, "NOT_FOUND",
            "models/\(model) is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods."
        )
    }

    static func notFound(_ path: String) -> FakeGeminiReply {
        .http(status: 404, contentType: "text/html; charset=UTF-8", body: Data("<!DOCTYPE html><html><body><p>The requested URL <code>\(path)</code> was not found on this server.</p></body></html>".utf8))
    }

    /// "1.5s", "45.837906927s": a protobuf Duration in JSON.
    static func protobufDuration(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let nanos = attoseconds / 1_000_000_000
        if nanos == 0 { return "\(seconds)s" }
        var fraction = String(nanos)
        fraction = String(repeating: "0", count: 9 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(seconds).\(fraction)s"
    }

    /// A 429 naming the quota `quotaID` of `model`, with its `quotaValue` when `limit` is given.
    static func rateLimited(retryDelay: Duration?, quotaID: String, model: String, limit: Int?) -> FakeGeminiReply {
        var message =
            "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits."
        var violation: [String: Any] = [
            "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
            "quotaId": quotaID,
            "quotaDimensions": ["location": "global", "model": model],
        ]
        if let limit { violation["quotaValue"] = String(limit) }
        var details: [[String: Any]] = [
            ["@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [violation]],
            [
                "@type": "type.googleapis.com/google.rpc.Help",
                "links": [["description": "Learn more about Gemini API quotas", "url": "https://ai.google.dev/gemini-api/docs/rate-limits"]],
            ],
        ]
        if let retryDelay {
            let seconds = retryDelay.fakeSeconds
            message += " Please retry in \(String(format: "%.2f", seconds))s."
            details.append(["@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": protobufDuration(retryDelay)])
        }
        return error(429, "RESOURCE_EXHAUSTED", message, details: details)
    }

    static func rateLimitedBare() -> FakeGeminiReply {
        error(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).")
    }

    static func usage(prompt: String, references: Int) -> [String: Any] {
        let promptTokens = max(1, prompt.utf8.count / 4) + 258 * references
        return [
            "promptTokenCount": promptTokens, "candidatesTokenCount": 1290, "totalTokenCount": promptTokens + 1290,
            "candidatesTokensDetails": [["modality": "IMAGE", "tokenCount": 1290]],
        ]
    }

    static func candidateReply(parts: [[String: Any]]?, finishReason: String, finishMessage: String? = nil, prompt: String, references: Int, model: String) -> FakeGeminiReply {
        var candidate: [String: Any] = ["finishReason": finishReason, "index": 0]
        if let parts { candidate["content"] = ["role": "model", "parts": parts] }
        if let finishMessage { candidate["finishMessage"] = finishMessage }
        return jsonReply(200, [
            "candidates": [candidate],
            "usageMetadata": usage(prompt: prompt, references: references),
            "modelVersion": model,
            "responseId": String(TinyImageEncoder.fnv1a(prompt + model), radix: 36),
        ])
    }

    /// The success answer: an interim thought image, a text part, then the final image (`data`, by
    /// default the prompt's PNG); a 500 when the fake cannot encode its PNGs.
    static func image(prompt: String, references: Int, model: String, data: Data? = nil, declaredMimeType: String = "image/png") -> FakeGeminiReply {
        let thought: String
        let final: Data
        do throws(PNGEncodingError) {
            thought = try TinyImageEncoder.png(seed: "thought:" + prompt).base64EncodedString()
            if let data { final = data } else { final = try TinyImageEncoder.png(seed: prompt) }
        } catch {
            return Self.error(500, "INTERNAL", "imagegen-fake-gemini could not encode its image: \(error.description)")
        }
        let parts: [[String: Any]] = [
            ["inlineData": ["mimeType": "image/png", "data": thought], "thought": true],
            ["text": "Here is the image you asked for."],
            ["inlineData": ["mimeType": declaredMimeType, "data": final.base64EncodedString()]],
        ]
        return candidateReply(parts: parts, finishReason: "STOP", prompt: prompt, references: references, model: model)
    }
}
