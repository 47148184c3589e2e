import Foundation
public import ImageGenEngine

/// Gemini's Batch API over the same libcurl client: create (`models/{model}:batchGenerateContent`
/// with inline requests), get (`batches/{id}`), list, cancel and delete. Every failure is
/// classified as an online one; a create whose connection drops after its body was sent is
/// `.transient(outcomeUnknown: true)` (the batch may exist: look for it by display name).
extension GeminiProvider: BatchProvider {
    public func createBatch(_ submission: BatchSubmission) async throws -> BatchSnapshot {
        try Self.checkKey(submission.key)
        let body: Data
        do {
            body = try GeminiBatchRequestBody(submission).encoded()
        } catch {
            throw ProviderFailure.badRequest(message: "cannot encode batch \(submission.displayName): \(error)")
        }
        let url = apiURL("models/\(Self.escaped(model: submission.model)):batchGenerateContent")
        let answer = try await call(
            transfer(.post, url: url, key: submission.key, body: body, timeout: submission.timeout,
                     maxResponseBytes: configuration.maxResponseBytes),
            key: submission.key, what: "create batch")
        do {
            return try GeminiBatchDecoder(responses: answer.decoder).operation(answer.body, results: false)
        } catch {
            // Gemini answered 200: the batch most likely exists. Look for it before sending again.
            if case .transient(let status, let message, _) = error {
                throw ProviderFailure.transient(status: status, message: message, outcomeUnknown: true)
            }
            throw error
        }
    }

    public func batch(named name: String, key: APIKey, timeout: Duration) async throws -> BatchSnapshot? {
        try Self.checkBatchName(name)
        try Self.checkKey(key)
        let answer = try await call(
            transfer(.get, url: apiURL(name), key: key, timeout: timeout, maxResponseBytes: configuration.maxBatchResponseBytes),
            key: key, what: "get \(name)", notFoundIsNil: true)
        guard let answer else { return nil }
        return try GeminiBatchDecoder(responses: answer.decoder).operation(answer.body, results: true)
    }

    public func listBatches(key: APIKey, pageToken: String?, timeout: Duration) async throws -> BatchPage {
        try Self.checkKey(key)
        var path = "batches?pageSize=100"
        if let pageToken {
            let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
            path += "&pageToken=" + (pageToken.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")
        }
        let answer = try await call(
            transfer(.get, url: apiURL(path), key: key, timeout: timeout, maxResponseBytes: configuration.maxResponseBytes),
            key: key, what: "list batches")
        return try GeminiBatchDecoder(responses: answer.decoder).page(answer.body)
    }

    public func cancelBatch(named name: String, key: APIKey, timeout: Duration) async throws {
        try Self.checkBatchName(name)
        try Self.checkKey(key)
        _ = try await call(
            transfer(.post, url: apiURL("\(name):cancel"), key: key, body: Data("{}".utf8), timeout: timeout,
                     maxResponseBytes: configuration.maxResponseBytes),
            key: key, what: "cancel \(name)")
    }

    public func deleteBatch(named name: String, key: APIKey, timeout: Duration) async throws {
        try Self.checkBatchName(name)
        try Self.checkKey(key)
        // Already gone is deleted.
        _ = try await call(
            transfer(.delete, url: apiURL(name), key: key, timeout: timeout, maxResponseBytes: configuration.maxResponseBytes),
            key: key, what: "delete \(name)", notFoundIsNil: true)
    }

    /// A batch name goes into a URL only as `batches/` and letters, digits, `_` or `-`.
    static func checkBatchName(_ name: String) throws(ProviderFailure) {
        guard GeminiBatchDecoder.isBatchName(name) else {
            throw ProviderFailure.badRequest(
                message: "\(String(name.prefix(80)).debugDescription) is not a batch name (batches/ and letters, digits, _ or -)")
        }
    }

    /// A 200 answer's body and its decoder; a 404 is nil when `notFoundIsNil`; any other status
    /// throws its classified failure.
    private func call(_ transfer: HTTPTransferRequest, key: APIKey, what: String, notFoundIsNil: Bool = false)
        async throws(ProviderFailure) -> (body: Data, decoder: GeminiResponseDecoder)?
    {
        let decoder = GeminiResponseDecoder(secret: key.secret)
        let (status, body) = try await exchange(transfer, key: key, what: what, decoder: decoder)
        if status == 404 && notFoundIsNil { return nil }
        guard status == 200 else { throw decoder.classifyError(status: status, body: body) }
        return (body, decoder)
    }

    private func call(_ transfer: HTTPTransferRequest, key: APIKey, what: String) async throws(ProviderFailure)
        -> (body: Data, decoder: GeminiResponseDecoder)
    {
        guard let answer = try await call(transfer, key: key, what: what, notFoundIsNil: false) else {
            throw ProviderFailure.transient(status: 404, message: "\(what): not found", outcomeUnknown: false)
        }
        return answer
    }
}
