import Foundation

/// One HTTP request for the I/O thread: everything libcurl needs, as Swift values.
struct HTTPTransferRequest: Sendable {
    /// The HTTP method: a POST carries `body`; a GET or DELETE sends none.
    enum Method: Sendable {
        case post
        case get
        case delete
    }

    var method: Method = .post
    var url: String
    /// Complete header lines, e.g. `Content-Type: application/json`.
    var headers: [String]
    var body: Data
    var totalTimeout: Duration
    var connectTimeout: Duration
    var maxResponseBytes: Int
    var userAgent: String
    /// Whether the connection may come from, and go back to, libcurl's pool.
    var reuseConnection: Bool
    /// Called once, on the I/O thread, when libcurl has handed the whole body to the socket.
    var onSent: (@Sendable (ContinuousClock.Instant) -> Void)? = nil
}
