import Foundation

/// Reads a `batchGenerateContent` body as Gemini does: `batch.displayName` and
/// `batch.inputConfig.requests.requests[]`, each `{request, metadata: {key}}` (camelCase or
/// snake_case), every request checked by the online request parser. A wrong field is a 400 naming it.
enum FakeGeminiBatchParser {
    static func parse(_ body: Data) -> Result<(displayName: String, requests: [FakeGeminiBatch.Request]), FakeGeminiReplyError> {
        guard let root = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] else {
            return .failure(.init("Invalid JSON payload received. Unexpected token."))
        }
        guard let batch = root["batch"] as? [String: Any] else {
            return .failure(.init("* BatchGenerateContentRequest.batch: batch is not specified", field: "batch"))
        }
        let displayName = (batch["displayName"] ?? batch["display_name"]) as? String ?? ""
        guard let input = (batch["inputConfig"] ?? batch["input_config"]) as? [String: Any] else {
            return .failure(.init("* batch.input_config: input_config is not specified", field: "batch.input_config"))
        }
        if input["fileName"] != nil || input["file_name"] != nil {
            return .failure(.init("* batch.input_config.file_name: file input is not supported by this fake", field: "batch.input_config.file_name"))
        }
        guard let list = (input["requests"] as? [String: Any])?["requests"] as? [Any], !list.isEmpty else {
            return .failure(.init("* batch.input_config.requests.requests: requests must not be empty", field: "batch.input_config.requests.requests"))
        }
        var requests: [FakeGeminiBatch.Request] = []
        var keys: Set<String> = []
        for (index, item) in list.enumerated() {
            let at = "batch.input_config.requests.requests[\(index)]"
            guard let item = item as? [String: Any], let request = item["request"] as? [String: Any] else {
                return .failure(.init("* \(at).request: request is not specified", field: "\(at).request"))
            }
            guard let key = (item["metadata"] as? [String: Any])?["key"] as? String, !key.isEmpty else {
                return .failure(.init("* \(at).metadata.key: every request needs a key", field: "\(at).metadata.key"))
            }
            guard keys.insert(key).inserted else {
                return .failure(.init("* \(at).metadata.key: key \(key) is used twice", field: "\(at).metadata.key"))
            }
            let data = (try? JSONSerialization.data(withJSONObject: request)) ?? Data()
            switch FakeGeminiRequestParser.parse(data) {
            case .failure(let error):
                let field = error.field.map { "\(at).request.\($0)" }
                return .failure(.init("\(field ?? at + ".request"): " + error.message, field: field))
            case .success(let parsed):
                requests.append(FakeGeminiBatch.Request(key: key, parsed: parsed, result: nil))
            }
        }
        return .success((displayName, requests))
    }
}
