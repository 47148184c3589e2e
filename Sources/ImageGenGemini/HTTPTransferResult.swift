import Foundation

/// How one transfer ended: an HTTP response (any status), or a transport failure.
enum HTTPTransferResult: Sendable {
    /// A complete response: the status and the (decompressed) body.
    case response(status: Int, body: Data)
    /// libcurl gave up: `code` is the CURLcode, `requestSent` whether the whole body went out
    /// (so the server may have acted on it).
    case transportFailure(code: Int, message: String, requestSent: Bool, kind: TransportFailureKind)
}
