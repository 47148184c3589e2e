import Foundation

/// Reads and validates a generateContent body the way Gemini does: unknown fields, bad enums,
/// `image/jpg`, broken base64 all answer 400 INVALID_ARGUMENT. Accepts camelCase and snake_case.
enum FakeGeminiRequestParser {
    struct Parsed: Sendable {
        var prompt: String
        var referenceMimeTypes: [String]
        var aspectRatio: String?
        var imageSize: String?
        var responseModalities: [String]
    }

    static let aspectRatios: Set<String> = ["1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"]
    static let imageSizes: Set<String> = ["1K", "2K", "4K"]
    static let mimeTypes: Set<String> = ["image/png", "image/jpeg", "image/webp", "image/heic", "image/heif"]

    /// The snake_case spelling of a camelCase field name.
    private static func snake(_ name: String) -> String {
        var out = ""
        for character in name {
            if character.isUppercase { out += "_" + character.lowercased() } else { out.append(character) }
        }
        return out
    }

    /// Looks a field up in either spelling.
    private static func field(_ object: [String: Any], _ name: String) -> Any? {
        object[name] ?? object[snake(name)]
    }

    /// Rejects a field that is in neither spelling of the allowed names.
    private static func unknownField(_ object: [String: Any], allowed: [String], at path: String) -> String? {
        let known = Set(allowed + allowed.map(snake))
        guard let bad = object.keys.sorted().first(where: { !known.contains($0) }) else { return nil }
        let location = path.isEmpty ? "" : " at '\(path)'"
        return "Invalid JSON payload received. Unknown name \"\(bad)\"\(location): Cannot find field."
    }

    static func parse(_ body: Data) -> Result<Parsed, FakeGeminiReplyError> {
        guard let root = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] else {
            return .failure(.init("Invalid JSON payload received. Unexpected token."))
        }
        let topLevel = ["contents", "generationConfig", "safetySettings", "systemInstruction", "tools", "toolConfig", "cachedContent"]
        if let message = unknownField(root, allowed: topLevel, at: "") { return .failure(.init(message)) }
        guard let contents = field(root, "contents") as? [[String: Any]], !contents.isEmpty else {
            return .failure(.init("* GenerateContentRequest.contents: contents is not specified", field: "contents"))
        }
        var texts: [String] = []
        var mimes: [String] = []
        for (index, content) in contents.enumerated() {
            if let message = unknownField(content, allowed: ["role", "parts"], at: "contents[\(index)]") { return .failure(.init(message)) }
            guard let parts = field(content, "parts") as? [[String: Any]], !parts.isEmpty else {
                return .failure(.init("* GenerateContentRequest.contents[\(index)].parts: contents.parts must not be empty.", field: "contents[\(index)].parts"))
            }
            for (partIndex, part) in parts.enumerated() {
                let path = "contents[\(index)].parts[\(partIndex)]"
                if let message = unknownField(part, allowed: ["text", "inlineData", "thought", "thoughtSignature"], at: path) {
                    return .failure(.init(message))
                }
                if let text = field(part, "text") as? String {
                    texts.append(text)
                } else if let inline = field(part, "inlineData") as? [String: Any] {
                    if let message = unknownField(inline, allowed: ["mimeType", "data"], at: path + ".inline_data") { return .failure(.init(message)) }
                    let mime = field(inline, "mimeType") as? String ?? ""
                    guard mimeTypes.contains(mime) else {
                        return .failure(.init("Unsupported MIME type: \(mime)", field: path + ".inline_data.mime_type"))
                    }
                    guard let data = field(inline, "data") as? String, Data(base64Encoded: data) != nil else {
                        return .failure(.init("Invalid value at '\(path).inline_data.data' (TYPE_BYTES), Base64 decoding failed", field: path + ".inline_data.data"))
                    }
                    mimes.append(mime)
                } else {
                    return .failure(.init("* GenerateContentRequest.\(path).data: required oneof field 'data' must have one initialized field", field: path))
                }
            }
        }
        var aspectRatio: String?
        var imageSize: String?
        var modalities: [String] = []
        if let generation = field(root, "generationConfig") {
            guard let generation = generation as? [String: Any] else {
                return .failure(.init("Invalid value at 'generation_config': not an object", field: "generation_config"))
            }
            let allowed = [
                "responseModalities", "imageConfig", "temperature", "topP", "topK", "candidateCount", "maxOutputTokens",
                "seed", "stopSequences", "thinkingConfig", "responseMimeType",
            ]
            if let message = unknownField(generation, allowed: allowed, at: "generation_config") { return .failure(.init(message)) }
            if let value = field(generation, "responseModalities") {
                guard let list = value as? [String], list.allSatisfy({ ["TEXT", "IMAGE"].contains($0) }) else {
                    return .failure(.init("Invalid value at 'generation_config.response_modalities'", field: "generation_config.response_modalities"))
                }
                modalities = list
            }
            if let value = field(generation, "imageConfig") {
                guard let config = value as? [String: Any] else {
                    return .failure(.init("Invalid value at 'generation_config.image_config'", field: "generation_config.image_config"))
                }
                if let message = unknownField(config, allowed: ["aspectRatio", "imageSize"], at: "generation_config.image_config") {
                    return .failure(.init(message))
                }
                if let value = field(config, "aspectRatio") {
                    guard let ratio = value as? String, aspectRatios.contains(ratio) else {
                        return .failure(.init("Unsupported aspect ratio: \(value). Supported values are 1:1, 2:3, 3:2, 3:4, 4:3, 4:5, 5:4, 9:16, 16:9, 21:9.", field: "generation_config.image_config.aspect_ratio"))
                    }
                    aspectRatio = ratio
                }
                if let value = field(config, "imageSize") {
                    guard let size = value as? String, imageSizes.contains(size) else {
                        return .failure(.init("Unsupported image size: \(value). Supported values are 1K, 2K, 4K.", field: "generation_config.image_config.image_size"))
                    }
                    imageSize = size
                }
            }
        }
        return .success(Parsed(prompt: texts.joined(separator: "\n"), referenceMimeTypes: mimes, aspectRatio: aspectRatio, imageSize: imageSize, responseModalities: modalities))
    }
}
