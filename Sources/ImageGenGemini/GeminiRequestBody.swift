import Foundation
import ImageGenEngine

/// The JSON body of `generateContent`, in Gemini's camelCase.
struct GeminiRequestBody: Encodable {
    struct InlineData: Encodable {
        var mimeType: String
        var data: String
    }

    struct Part: Encodable {
        var text: String?
        var inlineData: InlineData?
    }

    struct Content: Encodable {
        var role: String
        var parts: [Part]
    }

    struct ImageConfig: Encodable {
        var aspectRatio: String?
        var imageSize: String?
    }

    struct GenerationConfig: Encodable {
        var responseModalities: [String]
        var imageConfig: ImageConfig?
    }

    var contents: [Content]
    var generationConfig: GenerationConfig

    init(_ request: ImageRequest) {
        var parts = [Part(text: request.prompt)]
        for reference in request.references {
            let mime = reference.mimeType == "image/jpg" ? "image/jpeg" : reference.mimeType
            parts.append(Part(inlineData: InlineData(mimeType: mime, data: reference.data.base64EncodedString())))
        }
        contents = [Content(role: "user", parts: parts)]
        let imageConfig: ImageConfig? =
            request.aspectRatio == nil && request.imageSize == nil
            ? nil : ImageConfig(aspectRatio: request.aspectRatio, imageSize: request.imageSize)
        generationConfig = GenerationConfig(responseModalities: ["IMAGE"], imageConfig: imageConfig)
    }

    /// The encoded body (nil fields are left out).
    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}
