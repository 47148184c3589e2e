import Foundation
public import ImageGenEngine
public import Logging

/// The Gemini image provider: `POST {base}/v1beta/models/{model}:generateContent` over libcurl.
///
/// All transfers of one provider run on a single dedicated I/O thread that drives
/// `curl_multi_poll`; callers only await. Cancelling the calling task aborts its transfer and
/// throws `ProviderFailure.cancelled`. Every failure is a classified `ProviderFailure` whose
/// message never contains the key.
///
/// ```swift
/// let provider = try GeminiProvider(configuration: GeminiConfiguration(), logger: logger)
/// let image = try await provider.generate(
///     ImageRequest(model: "gemini-3.1-flash-image", prompt: "a lighthouse at dusk", key: key))
/// await provider.shutdown()
/// ```
public final class GeminiProvider: ImageProvider {
    /// "gemini", for logs and status.
    public let name = "gemini"
    /// The settings this provider was created with.
    public let configuration: GeminiConfiguration
    private let logger: Logger
    private let client: CurlMultiClient

    /// Initialises libcurl (once per process), creates the multi handle and starts the I/O thread.
    /// Throws `ProviderFailure.configuration` when libcurl cannot be initialised.
    public init(configuration: GeminiConfiguration = GeminiConfiguration(), logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        do {
            client = try CurlMultiClient(logger: logger)
        } catch {
            throw ProviderFailure.configuration(status: 0, message: error.message)
        }
    }

    deinit {
        client.requestShutdown()
    }

    /// Stops the I/O thread: transfers in flight fail with `ProviderFailure.cancelled`, later calls
    /// to `generate` too. Returns once the thread has freed every libcurl handle and exited.
    /// The name of this provider's I/O thread, as `top -H` or a debugger shows it: one thread per
    /// provider, whatever it has in flight.
    public var ioThreadName: String { client.threadName }

    public func shutdown() async {
        await client.shutdown()
    }

    /// The URL of `generateContent` for a model.
    public func endpoint(model: String) -> String {
        apiURL("models/\(Self.escaped(model: model)):generateContent")
    }

    /// `{base}/v1beta/{path}`.
    func apiURL(_ path: String) -> String {
        var base = configuration.baseURL
        while base.hasSuffix("/") { base.removeLast() }
        return "\(base)/v1beta/\(path)"
    }

    /// A model name as one URL path segment.
    static func escaped(model: String) -> String {
        model.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/", ":"])) ?? model
    }

    /// Sends one generateContent request and returns the last non-thought image, its MIME type
    /// sniffed from the bytes. Throws a classified `ProviderFailure` (`.cancelled` when the task is
    /// cancelled; the transfer is then aborted at once).
    public func generate(_ request: ImageRequest) async throws -> GeneratedImage {
        try Self.checkKey(request.key)
        let body: Data
        do {
            body = try GeminiRequestBody(request).encoded()
        } catch {
            throw ProviderFailure.badRequest(message: "cannot encode the request: \(error)")
        }
        let transfer = transfer(
            .post, url: endpoint(model: request.model), key: request.key, body: body, timeout: request.timeout,
            maxResponseBytes: configuration.maxResponseBytes, onSent: request.onSent)
        let decoder = GeminiResponseDecoder(secret: request.key.secret)
        let (status, responseBody) = try await exchange(transfer, key: request.key, what: request.model, decoder: decoder)
        return try decoder.decode(status: status, body: responseBody).get()
    }

    /// Refuses a key that is empty or holds control characters: a line break in it would smuggle
    /// headers into the request.
    static func checkKey(_ key: APIKey) throws(ProviderFailure) {
        guard !key.secret.isEmpty, !key.secret.contains(where: { $0.isNewline || $0.asciiValue.map { $0 < 0x20 } == true })
        else {
            throw ProviderFailure.keyRejected(status: 0, message: "the key \(key.label) is empty or holds control characters")
        }
    }

    /// A transfer to Gemini with the key in its header (never in the URL).
    func transfer(
        _ method: HTTPTransferRequest.Method, url: String, key: APIKey, body: Data = Data(), timeout: Duration,
        maxResponseBytes: Int, onSent: (@Sendable (ContinuousClock.Instant) -> Void)? = nil
    ) -> HTTPTransferRequest {
        var headers = ["Accept: application/json", "x-goog-api-key: \(key.secret)"]
        if method == .post { headers.insert("Content-Type: application/json", at: 0) }
        return HTTPTransferRequest(
            method: method, url: url, headers: headers, body: body, totalTimeout: timeout,
            connectTimeout: configuration.connectTimeout, maxResponseBytes: maxResponseBytes,
            userAgent: configuration.userAgent, reuseConnection: configuration.reuseConnections, onSent: onSent)
    }

    /// Runs `transfer` and returns the HTTP status and body; a transfer that got no answer throws
    /// its classified failure (`.cancelled` when the task was cancelled: the transfer is aborted at once).
    func exchange(_ transfer: HTTPTransferRequest, key: APIKey, what: String, decoder: GeminiResponseDecoder)
        async throws(ProviderFailure) -> (Int, Data)
    {
        let started = ContinuousClock.now
        let outcome: HTTPTransferResult
        do {
            outcome = try await client.perform(transfer)
        } catch {
            logger.debug("gemini request cancelled", metadata: ["key": "\(key.label)", "call": "\(what)"])
            throw ProviderFailure.cancelled
        }
        switch outcome {
        case .response(let status, let body):
            logger.debug(
                "gemini response",
                metadata: [
                    "key": "\(key.label)", "call": "\(what)", "status": "\(status)", "bytes": "\(body.count)",
                    "elapsed": "\(ContinuousClock.now - started)",
                ])
            return (status, body)
        case .transportFailure(_, let message, let requestSent, let kind):
            let failure = Self.transportFailure(
                kind: kind, message: decoder.scrub(message), requestSent: requestSent, timeout: transfer.totalTimeout)
            logger.debug("gemini transfer failed", metadata: ["key": "\(key.label)", "call": "\(what)", "failure": "\(failure)"])
            throw failure
        }
    }

    static func transportFailure(kind: TransportFailureKind, message: String, requestSent: Bool, timeout: Duration)
        -> ProviderFailure
    {
        switch kind {
        case .timedOut:
            return .transient(
                status: nil, message: "timed out after \(timeout)" + (requestSent ? " (request sent)" : "") + ": " + message,
                outcomeUnknown: requestSent)
        case .couldNotConnect:
            return .transient(status: nil, message: "could not connect: " + message, outcomeUnknown: false)
        case .responseTooLarge:
            return .transient(status: nil, message: "response larger than the maximum: " + message, outcomeUnknown: true)
        case .connectionLost:
            return .transient(status: nil, message: "connection lost: " + message, outcomeUnknown: requestSent)
        case .other:
            return .transient(status: nil, message: message, outcomeUnknown: requestSent)
        }
    }
}
