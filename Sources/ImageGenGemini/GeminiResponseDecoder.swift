import Foundation
import ImageGenEngine

/// Turns a Gemini HTTP response into a `GeneratedImage` or a classified `ProviderFailure`,
/// following the error table of the API (see `/work/shared/reference/gemini-api.md`).
///
/// Messages carry Gemini's own text, with the key scrubbed out should the server ever echo it.
struct GeminiResponseDecoder {
    /// The key's secret, removed from every message.
    var secret: String

    /// Finish reasons that mean the image (or prompt) was blocked for safety or policy.
    static let blockingFinishReasons: Set<String> = [
        "SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION", "IMAGE_SAFETY",
        "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION", "IMAGE_OTHER",
    ]

    func decode(status: Int, body: Data) -> Result<GeneratedImage, ProviderFailure> {
        if status == 200 { return decodeSuccess(body) }
        return .failure(classifyError(status: status, body: body))
    }

    // MARK: - 200

    func decodeSuccess(_ body: Data) -> Result<GeneratedImage, ProviderFailure> {
        guard let root = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] else {
            return .failure(.transient(status: 200, message: "malformed response: " + snippet(body), outcomeUnknown: true))
        }
        return decodeSuccess(object: root)
    }

    /// A `GenerateContentResponse` already parsed: online, the 200 body; in a batch, one inlined response.
    func decodeSuccess(object root: [String: Any]) -> Result<GeneratedImage, ProviderFailure> {
        let usage = Self.usage(root["usageMetadata"] as? [String: Any])
        let candidates = root["candidates"] as? [[String: Any]] ?? []
        let blockReason = (root["promptFeedback"] as? [String: Any])?["blockReason"] as? String

        var image: (declared: String, base64: String)?
        var texts: [String] = []
        var finishReason: String?
        var finishMessage: String?
        for candidate in candidates {
            if finishReason == nil { finishReason = candidate["finishReason"] as? String }
            if finishMessage == nil { finishMessage = candidate["finishMessage"] as? String }
            let content = candidate["content"] as? [String: Any]
            for part in content?["parts"] as? [[String: Any]] ?? [] {
                if (part["thought"] as? Bool) == true { continue }
                if let inline = (part["inlineData"] ?? part["inline_data"]) as? [String: Any],
                    let data = inline["data"] as? String
                {
                    let declared = (inline["mimeType"] ?? inline["mime_type"]) as? String ?? ""
                    if declared.isEmpty || declared.hasPrefix("image/") { image = (declared, data) }
                } else if let text = part["text"] as? String {
                    texts.append(text)
                }
            }
        }
        let text = texts.isEmpty ? nil : scrub(texts.joined(separator: "\n"))

        if let image {
            guard let bytes = Data(base64Encoded: image.base64), !bytes.isEmpty else {
                return .failure(.transient(status: 200, message: "malformed response: image data is not valid base64", outcomeUnknown: true))
            }
            guard let mime = ImageSniffer.mimeType(of: bytes) else {
                return .failure(.transient(
                    status: 200, message: "malformed response: image bytes (declared \(image.declared)) are not a known image format",
                    outcomeUnknown: true))
            }
            return .success(GeneratedImage(mimeType: mime, data: bytes, usage: usage, text: text))
        }
        if let blockReason {
            let message = (root["promptFeedback"] as? [String: Any])?["blockReasonMessage"] as? String ?? "the prompt was blocked"
            return .failure(.blocked(reason: blockReason, message: scrub(message)))
        }
        if let finishReason, Self.blockingFinishReasons.contains(finishReason) {
            return .failure(.blocked(reason: finishReason, message: scrub(finishMessage ?? "the image was blocked")))
        }
        if candidates.isEmpty {
            return .failure(.noImage(reason: "NO_CANDIDATES", message: "the response has no candidates"))
        }
        if let finishReason, finishReason != "STOP" {
            return .failure(.noImage(reason: finishReason, message: scrub(finishMessage ?? text ?? "")))
        }
        return .failure(.noImage(reason: "TEXT_ONLY", message: text.map { "the model answered with text only: " + String($0.prefix(300)) } ?? "the response has no image"))
    }

    static func usage(_ metadata: [String: Any]?) -> TokenUsage {
        guard let metadata else { return TokenUsage() }
        func int(_ key: String) -> Int { (metadata[key] as? NSNumber)?.intValue ?? 0 }
        return TokenUsage(
            promptTokens: int("promptTokenCount"), outputTokens: int("candidatesTokenCount"),
            totalTokens: int("totalTokenCount"))
    }

    // MARK: - Errors

    func classifyError(status: Int, body: Data) -> ProviderFailure {
        let envelope = ((try? JSONSerialization.jsonObject(with: body)) as? [String: Any])?["error"] as? [String: Any]
        guard let envelope else {
            let message = "HTTP \(status) with a non-JSON body: " + snippet(body)
            return classify(status: status, grpcStatus: nil, details: ErrorDetails(), message: message)
        }
        return classifyError(status: status, envelope: envelope)
    }

    /// An error object `{code, message, status, details}`: online, a response's `error`; in a batch,
    /// one request's `error` (classified as the HTTP status `status` would be online).
    func classifyError(status: Int, envelope: [String: Any]) -> ProviderFailure {
        let message = scrub(envelope["message"] as? String ?? "HTTP \(status)")
        var details = ErrorDetails(envelope["details"] as? [[String: Any]] ?? [])
        if details.retryDelay == nil { details.retryDelay = Self.parseRetryIn(message) }
        return classify(status: status, grpcStatus: envelope["status"] as? String, details: details, message: message)
    }

    private func classify(status: Int, grpcStatus: String?, details: ErrorDetails, message: String) -> ProviderFailure {
        switch status {
        case 400:
            let lowered = message.lowercased()
            if details.reasons.contains("API_KEY_INVALID") || lowered.contains("api key not valid")
                || lowered.contains("api key expired") || lowered.contains("api_key_invalid")
            {
                return .keyRejected(status: status, message: message)
            }
            if grpcStatus == "FAILED_PRECONDITION" { return .configuration(status: status, message: message) }
            return .badRequest(message: message)
        case 401, 403:
            return .keyRejected(status: status, message: message)
        case 402, 404:
            return .configuration(status: status, message: message)
        case 429:
            return .rateLimited(details.rateLimit(message: message))
        case 408, 500...599:
            return .transient(status: status, message: message, outcomeUnknown: false)
        case 405...499:
            return .badRequest(message: "HTTP \(status): " + message)
        default:
            return .transient(status: status, message: "unexpected HTTP \(status): " + message, outcomeUnknown: false)
        }
    }

    /// A protobuf Duration in JSON: `"26s"`, `"45.837906927s"`.
    static func parseProtobufDuration(_ value: Any?) -> Duration? {
        guard var text = value as? String else { return nil }
        text = text.trimmingCharacters(in: .whitespaces)
        guard text.hasSuffix("s"), let seconds = Double(text.dropLast()), seconds >= 0, seconds.isFinite else { return nil }
        return .fractionalSeconds(seconds)
    }

    /// "… Please retry in 58.93s." or "retry in 850ms".
    static func parseRetryIn(_ message: String) -> Duration? {
        guard let range = message.range(of: "retry in ", options: .caseInsensitive) else { return nil }
        let rest = message[range.upperBound...]
        let number = rest.prefix { $0.isNumber || $0 == "." }
        guard let value = Double(number), value >= 0, value.isFinite else { return nil }
        let unit = rest.dropFirst(number.count)
        if unit.hasPrefix("ms") { return .fractionalSeconds(value / 1000) }
        if unit.hasPrefix("s") { return .fractionalSeconds(value) }
        return nil
    }

    // MARK: - Text

    /// Removes the key's secret from text that goes into an error message.
    func scrub(_ text: String) -> String {
        guard secret.count >= 4 else { return text }
        return text.replacingOccurrences(of: secret, with: "[redacted]")
    }

    /// The start of a body as printable text, for messages about unreadable bodies.
    func snippet(_ body: Data) -> String {
        guard !body.isEmpty else { return "(empty body)" }
        let text = scrub(String(decoding: body.prefix(16_384), as: UTF8.self))
            .replacingOccurrences(of: "\n", with: " ")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return text.count > 300 ? String(text.prefix(300)) + "…" : text
    }
}
