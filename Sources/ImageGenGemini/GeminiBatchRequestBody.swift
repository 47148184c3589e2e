import Foundation
import ImageGenEngine

/// The JSON body of `batchGenerateContent` with inline requests: each request is exactly the
/// `generateContent` body (``GeminiRequestBody``, image settings in its own `generationConfig`),
/// named by its `metadata.key`.
struct GeminiBatchRequestBody: Encodable {
    struct Metadata: Encodable {
        var key: String
    }

    struct Item: Encodable {
        var request: GeminiRequestBody
        var metadata: Metadata
    }

    struct Requests: Encodable {
        var requests: [Item]
    }

    struct InputConfig: Encodable {
        var requests: Requests
    }

    struct Batch: Encodable {
        var displayName: String
        var inputConfig: InputConfig
    }

    var batch: Batch

    init(_ submission: BatchSubmission) {
        let items = submission.entries.map { Item(request: GeminiRequestBody($0.request), metadata: Metadata(key: $0.key)) }
        batch = Batch(displayName: submission.displayName, inputConfig: InputConfig(requests: Requests(requests: items)))
    }

    /// The encoded body (nil fields are left out).
    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}
