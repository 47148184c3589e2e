public import Foundation

/// Something that turns one prompt (plus reference images) into one image: Gemini over libcurl,
/// the built-in offline renderer, or a test double.
///
/// A provider is called concurrently from many tasks. It must honour task cancellation
/// (abort the transfer and throw `ProviderFailure.cancelled` or `CancellationError`), must never
/// block the cooperative thread pool, and must never put `APIKey.secret` in an error message.
public protocol ImageProvider: Sendable {
    /// A short name for logs and status, e.g. "gemini" or "offline".
    var name: String { get }

    /// Renders one image. Throws `ProviderFailure` for every failure the engine should classify.
    func generate(_ request: ImageRequest) async throws -> GeneratedImage

    /// The provider's Batch API, nil when it has none (see ``BatchProvider``).
    var batchProvider: (any BatchProvider)? { get }
}

/// One image to render: the fully templated prompt, the model and its settings, the references.
public struct ImageRequest: Sendable {
    /// The model name, e.g. "gemini-3.1-flash-image".
    public var model: String
    /// The prompt after the style's template was applied.
    public var prompt: String
    /// Images attached as extra parts, in order: style reference first, then the predecessor.
    public var references: [ReferenceImage]
    /// e.g. "16:9"; nil leaves it to the model.
    public var aspectRatio: String?
    /// "1K", "2K" or "4K"; nil leaves it to the model.
    public var imageSize: String?
    /// The key to send; the provider puts it in a header and nowhere else.
    public var key: APIKey
    /// The whole request's time limit.
    public var timeout: Duration
    /// When the request passed its project's pace (the start the quota counts); the engine sets it
    /// just before it calls the provider, nil before that.
    public var startedAt: ContinuousClock.Instant?
    /// Called at most once, from any thread, when the whole request has been handed to the network:
    /// with ``startedAt`` it measures how much later than its start a request arrives. A provider
    /// that cannot tell never calls it.
    public var onSent: (@Sendable (ContinuousClock.Instant) -> Void)?

    public init(
        model: String, prompt: String, references: [ReferenceImage] = [],
        aspectRatio: String? = nil, imageSize: String? = nil, key: APIKey,
        timeout: Duration = .seconds(120)
    ) {
        self.model = model
        self.prompt = prompt
        self.references = references
        self.aspectRatio = aspectRatio
        self.imageSize = imageSize
        self.key = key
        self.timeout = timeout
    }
}

/// An image sent along with a prompt (style reference, or the previous beat's image).
public struct ReferenceImage: Sendable, Equatable {
    /// "image/png" or "image/jpeg" (never "image/jpg").
    public var mimeType: String
    public var data: Data

    public init(mimeType: String, data: Data) {
        self.mimeType = mimeType
        self.data = data
    }
}

/// What a provider returns on success.
public struct GeneratedImage: Sendable {
    /// The MIME type sniffed from the bytes ("image/png" or "image/jpeg").
    public var mimeType: String
    public var data: Data
    public var usage: TokenUsage
    /// Any text the model sent with the image.
    public var text: String?

    public init(mimeType: String, data: Data, usage: TokenUsage = TokenUsage(), text: String? = nil) {
        self.mimeType = mimeType
        self.data = data
        self.usage = usage
        self.text = text
    }
}

/// Token counts that Gemini reports in `usageMetadata`.
public struct TokenUsage: Sendable, Equatable, Codable {
    public var promptTokens: Int
    public var outputTokens: Int
    public var totalTokens: Int

    public init(promptTokens: Int = 0, outputTokens: Int = 0, totalTokens: Int = 0) {
        self.promptTokens = promptTokens
        self.outputTokens = outputTokens
        self.totalTokens = totalTokens
    }
}

/// Every way a request can fail, classified for the engine's decision: retry, move to another
/// key, disable the key, or fail the beat. Messages never contain the key.
public enum ProviderFailure: Error, Sendable, Equatable {
    /// HTTP 429, with what Gemini said of the quota (``RateLimit``): its delay, and when it named
    /// the quota, its window and limit (per day: the key is useless until tomorrow).
    case rateLimited(RateLimit)
    /// 400 API_KEY_INVALID, 401, 403: the key is bad; disable it for the job.
    case keyRejected(status: Int, message: String)
    /// 400 about the request itself (field, enum, size): fail the beat, do not retry.
    case badRequest(message: String)
    /// 404 unknown model, 400 FAILED_PRECONDITION, 402 credits spent: nothing on this key will work
    /// until a person changes the configuration; fail the style with this message.
    case configuration(status: Int, message: String)
    /// 5xx, timeouts, connection errors, malformed bodies: retry with backoff.
    /// `outcomeUnknown` when the request was sent and may have been billed (timeout or drop after sending).
    case transient(status: Int?, message: String, outcomeUnknown: Bool)
    /// The prompt or image was blocked for safety (promptFeedback.blockReason or a safety finishReason).
    /// Repeats on retry. Billed.
    case blocked(reason: String, message: String)
    /// A 200 without an image (finishReason NO_IMAGE, or text only). Billed; worth one more try at most.
    case noImage(reason: String, message: String)
    /// The task was cancelled and the transfer aborted.
    case cancelled
}

extension ProviderFailure {
    /// A 429 that named no quota beyond its window: `perDay` for a per-day one.
    public static func rateLimited(retryAfter: Duration?, perDay: Bool, message: String) -> ProviderFailure {
        .rateLimited(RateLimit(retryAfter: retryAfter, window: perDay ? .day : nil, message: message))
    }
}

extension ProviderFailure: CustomStringConvertible {
    public var description: String {
        switch self {
        case .rateLimited(let limit):
            let delay = limit.retryAfter.map { " (retry in \($0))" } ?? ""
            return (limit.perDay ? "daily quota exhausted" : "rate limited") + delay + ": " + limit.message
        case .keyRejected(let status, let message): return "key rejected (HTTP \(status)): \(message)"
        case .badRequest(let message): return "request rejected: \(message)"
        case .configuration(let status, let message): return "configuration error (HTTP \(status)): \(message)"
        case .transient(let status, let message, _):
            return "transient failure" + (status.map { " (HTTP \($0))" } ?? "") + ": \(message)"
        case .blocked(let reason, let message): return "blocked (\(reason))" + (message.isEmpty ? "" : ": \(message)")
        case .noImage(let reason, let message): return "no image (\(reason))" + (message.isEmpty ? "" : ": \(message)")
        case .cancelled: return "cancelled"
        }
    }
}
