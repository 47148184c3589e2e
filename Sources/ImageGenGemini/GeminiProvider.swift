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
        var base = configuration.baseURL
        while base.hasSuffix("/") { base.removeLast() }
        let escaped = model.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/", ":"])) ?? model
        return "\(base)/v1beta/models/\(escaped):generateContent"
    }

    /// Sends one generateContent request and returns the last non-thought image, its MIME type
    /// sniffed from the bytes. Throws a classified `ProviderFailure` (`.cancelled` when the task is
    /// cancelled; the transfer is then aborted at once).
    public func generate(_ request: ImageRequest) async throws -> GeneratedImage {
        // A line break in the key would smuggle headers into the request.
        guard !request.key.secret.isEmpty, !request.key.secret.contains(where: { $0.isNewline || $0.asciiValue.map { $0 < 0x20 } == true })
        else {
            throw ProviderFailure.keyRejected(status: 0, message: "the key \(request.key.label) is empty or holds control characters")
        }
        let body: Data
        do {
            body = try GeminiRequestBody(request).encoded()
        } catch {
            throw ProviderFailure.badRequest(message: "cannot encode the request: \(error)")
        }
        let transfer = HTTPTransferRequest(
            url: endpoint(model: request.model),
            headers: ["Content-Type: application/json", "Accept: application/json", "x-goog-api-key: \(request.key.secret)"],
            body: body,
            totalTimeout: request.timeout,
            connectTimeout: configuration.connectTimeout,
            maxResponseBytes: configuration.maxResponseBytes,
            userAgent: configuration.userAgent,
            reuseConnection: configuration.reuseConnections,
            onSent: request.onSent)
        let decoder = GeminiResponseDecoder(secret: request.key.secret)
        let started = ContinuousClock.now
        let outcome: HTTPTransferResult
        do {
            outcome = try await client.perform(transfer)
        } catch {
            logger.debug("gemini request cancelled", metadata: ["key": "\(request.key.label)", "model": "\(request.model)"])
            throw ProviderFailure.cancelled
        }
        let elapsed = ContinuousClock.now - started
        switch outcome {
        case .response(let status, let responseBody):
            let result = decoder.decode(status: status, body: responseBody)
            logger.debug(
                "gemini response",
                metadata: [
                    "key": "\(request.key.label)", "model": "\(request.model)", "status": "\(status)",
                    "bytes": "\(responseBody.count)", "elapsed": "\(elapsed)",
                ])
            return try result.get()
        case .transportFailure(_, let message, let requestSent, let kind):
            let failure = Self.transportFailure(kind: kind, message: decoder.scrub(message), requestSent: requestSent, timeout: request.timeout)
            logger.debug(
                "gemini transfer failed",
                metadata: ["key": "\(request.key.label)", "model": "\(request.model)", "failure": "\(failure)"])
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
