import Foundation
import ImageGenEngine

/// Turns the Batch API's answers — a long-running Operation (create, get) or a page of them
/// (list) — into ``BatchSnapshot``s. Each inlined result is classified by the same
/// ``GeminiResponseDecoder`` code as an online answer: a response as a 200 body, an error as an
/// online error of its status.
struct GeminiBatchDecoder {
    let responses: GeminiResponseDecoder

    /// A batch name as it may go into a URL: `batches/` and letters, digits, `_` or `-`.
    static func isBatchName(_ name: String) -> Bool {
        guard name.hasPrefix("batches/") else { return false }
        let id = name.dropFirst("batches/".count)
        return !id.isEmpty && id.count <= 256 && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
    }

    /// The Operation of a 200 body; with `results`, its inlined results once done.
    func operation(_ body: Data, results: Bool) throws(ProviderFailure) -> BatchSnapshot {
        guard let root = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] else {
            throw malformed("the batch answer is not a JSON object: " + responses.snippet(body))
        }
        return try operation(object: root, results: results)
    }

    /// One page of `batches` listing.
    func page(_ body: Data) throws(ProviderFailure) -> BatchPage {
        guard let root = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] else {
            throw malformed("the batch listing is not a JSON object: " + responses.snippet(body))
        }
        var batches: [BatchSnapshot] = []
        for item in root["operations"] as? [[String: Any]] ?? root["batches"] as? [[String: Any]] ?? [] {
            batches.append(try operation(object: item, results: false))
        }
        let token = root["nextPageToken"] as? String
        return BatchPage(batches: batches, nextPageToken: token?.isEmpty == false ? token : nil)
    }

    func operation(object root: [String: Any], results: Bool) throws(ProviderFailure) -> BatchSnapshot {
        // The batch's fields sit in the Operation's `metadata` (or, from some endpoints, at the top).
        let batch = root["metadata"] as? [String: Any] ?? root
        guard let name = (root["name"] ?? batch["name"]) as? String, Self.isBatchName(name) else {
            throw malformed("the batch answer has no valid batch name")
        }
        let state = BatchState(wire: batch["state"] as? String ?? "")
        let model = (batch["model"] as? String).map { $0.hasPrefix("models/") ? String($0.dropFirst(7)) : $0 }
        var snapshot = BatchSnapshot(
            name: name, displayName: batch["displayName"] as? String ?? "", model: model, state: state,
            stats: Self.stats(batch["batchStats"] as? [String: Any]))
        guard results, state.isTerminal else { return snapshot }
        let output = root["response"] as? [String: Any] ?? batch["output"] as? [String: Any]
        if output?["responsesFile"] != nil {
            throw ProviderFailure.badRequest(
                message: "batch \(name) returned its results as a file; only inline batches are sent, and file results are not read")
        }
        let inlined = (output?["inlinedResponses"] as? [String: Any])?["inlinedResponses"] as? [[String: Any]] ?? []
        for entry in inlined {
            guard let key = (entry["metadata"] as? [String: Any])?["key"] as? String ?? entry["key"] as? String else { continue }
            snapshot.results[key] = result(of: entry)
        }
        return snapshot
    }

    /// One inlined result: a response as an online 200 body, an error as an online error.
    private func result(of entry: [String: Any]) -> Result<GeneratedImage, ProviderFailure> {
        if let error = entry["error"] as? [String: Any] {
            return .failure(responses.classifyError(status: Self.httpStatus(of: error), envelope: error))
        }
        guard let response = entry["response"] as? [String: Any] else {
            return .failure(.noImage(reason: "NO_RESPONSE", message: "the batch result has neither a response nor an error"))
        }
        return responses.decodeSuccess(object: response)
    }

    /// The HTTP status an error object stands for: its `code` when it is one, else its gRPC status.
    static func httpStatus(of error: [String: Any]) -> Int {
        let code = (error["code"] as? NSNumber)?.intValue ?? 0
        if (100...599).contains(code) { return code }
        let byName: [String: Int] = [
            "INVALID_ARGUMENT": 400, "FAILED_PRECONDITION": 400, "OUT_OF_RANGE": 400, "UNAUTHENTICATED": 401,
            "PERMISSION_DENIED": 403, "NOT_FOUND": 404, "RESOURCE_EXHAUSTED": 429, "CANCELLED": 499, "INTERNAL": 500,
            "UNKNOWN": 500, "DATA_LOSS": 500, "UNIMPLEMENTED": 501, "UNAVAILABLE": 503, "DEADLINE_EXCEEDED": 504,
        ]
        if let status = error["status"] as? String, let http = byName[status] { return http }
        let byCode: [Int: Int] = [3: 400, 9: 400, 11: 400, 16: 401, 7: 403, 5: 404, 8: 429, 1: 499, 13: 500, 2: 500, 15: 500, 12: 501, 14: 503, 4: 504]
        return byCode[code] ?? 500
    }

    /// `batchStats`: int64 counts, as strings or numbers; missing ones are 0.
    static func stats(_ object: [String: Any]?) -> BatchStats {
        func count(_ key: String) -> Int {
            switch object?[key] {
            case let text as String: Int(text) ?? 0
            case let number as NSNumber: number.intValue
            default: 0
            }
        }
        return BatchStats(
            requestCount: count("requestCount"), successful: count("successfulRequestCount"),
            failed: count("failedRequestCount"), pending: count("pendingRequestCount"))
    }

    private func malformed(_ message: String) -> ProviderFailure {
        .transient(status: 200, message: "malformed batch answer: " + message, outcomeUnknown: false)
    }
}
