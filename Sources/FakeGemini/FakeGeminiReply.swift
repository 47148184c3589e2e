import Foundation

/// What the fake does with one request.
enum FakeGeminiReply: Sendable {
    /// An HTTP response.
    case http(status: Int, contentType: String, body: Data)
    /// Close the connection without answering.
    case drop
    /// Never answer.
    case hang

    var status: Int? {
        if case .http(let status, _, _) = self { return status }
        return nil
    }
}
