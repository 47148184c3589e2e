public import Foundation

/// What the fake saw of one generateContent request and how it answered. Never holds a key:
/// only its label (the last 4 characters).
public struct FakeGeminiRequestLogEntry: Sendable, Codable, Equatable {
    /// When the request arrived.
    public var time: Date
    /// The path, e.g. `/v1beta/models/gemini-3.1-flash-image:generateContent`.
    public var path: String
    /// "…" + the key's last 4 characters; nil when no key was sent.
    public var keyLabel: String?
    /// Where the key came from: "header", "query" or "none".
    public var keySource: String
    /// The key's project, when the key is known.
    public var project: String?
    /// The request's Accept-Encoding header.
    public var acceptEncoding: String?
    /// The model named in the path.
    public var model: String
    /// The prompt (all text parts joined), empty when the body could not be read.
    public var prompt: String
    /// The number of inlineData parts.
    public var referenceCount: Int
    /// The MIME types of the inlineData parts, in order.
    public var referenceMimeTypes: [String]
    /// generationConfig.imageConfig.aspectRatio.
    public var aspectRatio: String?
    /// generationConfig.imageConfig.imageSize.
    public var imageSize: String?
    /// generationConfig.responseModalities.
    public var responseModalities: [String]
    /// How it was answered: "image", a fault name, "rate_limited", "daily_quota",
    /// "invalid_key", "forbidden", "missing_key", "bad_request", "model_not_found", "not_found".
    public var kind: String
    /// The HTTP status answered; nil for `drop` and `hang`.
    public var status: Int?
    /// "batch" for a request a Batch API batch processed (billed at the batch price; its path is
    /// the batch's); nil for an online request.
    public var lane: String? = nil

    /// Decodes the body of `GET /_fake/log` (for tests that run the fake as a separate process).
    public static func decodeLog(from data: Data) throws -> [FakeGeminiRequestLogEntry] {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(FakeGeminiLogDocument.self, from: data).requests
    }
}
