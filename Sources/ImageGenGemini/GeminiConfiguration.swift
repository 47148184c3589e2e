import Foundation

/// Settings of a `GeminiProvider`: where Gemini lives and the transport's limits.
///
/// ```swift
/// var configuration = GeminiConfiguration()
/// configuration.baseURL = "http://127.0.0.1:8080"   // a loopback fake in tests
/// let provider = try GeminiProvider(configuration: configuration, logger: logger)
/// ```
public struct GeminiConfiguration: Sendable {
    /// Scheme, host and optional port, without a trailing path, e.g. `https://generativelanguage.googleapis.com`.
    public var baseURL: String
    /// The time allowed to establish the connection (TCP and TLS); the whole request is bounded by
    /// `ImageRequest.timeout`.
    public var connectTimeout: Duration
    /// The largest response body accepted; a larger one aborts the transfer as a transient failure.
    public var maxResponseBytes: Int
    /// The largest answer to reading a finished batch (it holds every image of the batch, in base64).
    public var maxBatchResponseBytes: Int
    /// The `User-Agent` header.
    public var userAgent: String
    /// Keeps connections open for later requests. Off by default: when a reused connection dies
    /// before any answer, libcurl silently sends the POST again on a fresh one, and a Gemini request
    /// that may already have been billed would run twice. A new connection per image costs one
    /// handshake against a generation of many seconds.
    public var reuseConnections: Bool

    /// Creates a configuration; every setting has a production default.
    public init(
        baseURL: String = "https://generativelanguage.googleapis.com",
        connectTimeout: Duration = .seconds(10),
        maxResponseBytes: Int = 64 << 20,
        maxBatchResponseBytes: Int = 512 << 20,
        userAgent: String = "imagegen-gemini/1",
        reuseConnections: Bool = false
    ) {
        self.baseURL = baseURL
        self.connectTimeout = connectTimeout
        self.maxResponseBytes = maxResponseBytes
        self.maxBatchResponseBytes = maxBatchResponseBytes
        self.userAgent = userAgent
        self.reuseConnections = reuseConnections
    }
}
