import Foundation

/// How one transfer ended: an HTTP response (any status), or a transport failure.
enum HTTPTransferResult: Sendable {
    /// A complete response: the status, the (decompressed) body, and when libcurl had handed the
    /// whole request to the socket (nil if it never said).
    case response(status: Int, body: Data, sentAt: ContinuousClock.Instant?)
    /// libcurl gave up: `code` is the CURLcode, `requestSent` whether the whole body went out
    /// (so the server may have acted on it).
    case transportFailure(code: Int, message: String, requestSent: Bool, kind: TransportFailureKind)
}
