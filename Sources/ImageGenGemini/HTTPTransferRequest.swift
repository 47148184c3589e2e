import Foundation

/// One HTTP POST for the I/O thread: everything libcurl needs, as Swift values.
struct HTTPTransferRequest: Sendable {
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
}
