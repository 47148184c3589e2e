import Foundation

/// The Batch API: create (`models/{model}:batchGenerateContent` with inline requests), get, list
/// (newest first, paged), cancel and delete. Batches belong to the project of the key that made
/// them; another project's key gets 404. Each processed request is answered by the same code as an
/// online one (faults asked for by its prompt included) and logged with lane "batch".
extension FakeGeminiBackend {
    /// Gemini's limit on inline batch requests.
    static let maximumBatchBytes = 20_000_000

    /// Answers a Batch API call, or nil when `method path` is not one.
    func batchCall(method: String, path: String, query: [String: String], key: String?, body: Data) -> FakeGeminiReply? {
        let modelPrefix = "/v1beta/models/"
        let createSuffix = ":batchGenerateContent"
        if method == "POST", path.hasPrefix(modelPrefix), path.hasSuffix(createSuffix),
            path.count > modelPrefix.count + createSuffix.count
        {
            let raw = String(path.dropFirst(modelPrefix.count).dropLast(createSuffix.count))
            return withProject(key) { project, label in createBatch(model: raw.removingPercentEncoding ?? raw, project: project, keyLabel: label, body: body) }
        }
        guard path == "/v1beta/batches" || path.hasPrefix("/v1beta/batches/") else { return nil }
        var id = path.dropFirst("/v1beta/batches".count).drop { $0 == "/" }
        switch method {
        case "GET" where id.isEmpty:
            return withProject(key) { project, _ in list(project: project, query: query) }
        case "GET":
            return withProject(key) { project, _ in get(String(id), project: project) }
        case "POST" where id.hasSuffix(":cancel"):
            id = id.dropLast(":cancel".count)
            return withProject(key) { project, _ in cancel(String(id), project: project) }
        case "DELETE" where !id.isEmpty:
            return withProject(key) { project, _ in delete(String(id), project: project) }
        default:
            return FakeGeminiPayloads.notFound(path)
        }
    }

    /// Runs `body` with the key's project, or answers as Gemini does to a bad key.
    private func withProject(_ key: String?, _ body: (String, String) -> FakeGeminiReply) -> FakeGeminiReply {
        var entry = FakeGeminiRequestLogEntry(
            time: Date(), path: "", keyLabel: nil, keySource: "header", project: nil, acceptEncoding: nil, model: "",
            prompt: "", referenceCount: 0, referenceMimeTypes: [], aspectRatio: nil, imageSize: nil,
            responseModalities: [], kind: "", status: nil)
        guard let key, let project = authenticate(key, entry: &entry) else { return refusal(of: key) }
        return body(project, Self.label(key))
    }

    private func createBatch(model: String, project: String, keyLabel: String, body: Data) -> FakeGeminiReply {
        guard body.count <= Self.maximumBatchBytes else {
            return FakeGeminiPayloads.invalidArgument(
                "Request payload size exceeds the limit: \(Self.maximumBatchBytes) bytes.", field: "batch.input_config")
        }
        if let models = configuration.models, !models.contains(model) { return FakeGeminiPayloads.modelNotFound(model) }
        let parsed: (displayName: String, requests: [FakeGeminiBatch.Request])
        switch FakeGeminiBatchParser.parse(body) {
        case .failure(let error): return FakeGeminiPayloads.invalidArgument(error.message, field: error.field)
        case .success(let value): parsed = value
        }
        let now = configuration.clock.now
        let (batch, fault) = batchBook.withLock { book -> (FakeGeminiBatch, FakeGeminiBatchFault?) in
            book.created += 1
            let fault = book.faults.isEmpty ? nil : book.faults.removeFirst()
            let batch = FakeGeminiBatch(
                id: "fb\(book.created)x\(String(UInt32.random(in: 0...UInt32.max), radix: 36))",
                displayName: parsed.displayName, model: model, project: project, keyLabel: keyLabel, created: now,
                createdAt: Date(), pending: configuration.batchPendingTime, running: configuration.batchRunningTime,
                fault: fault, requests: parsed.requests)
            book.batches.append(batch)
            return (batch, fault)
        }
        if fault == .loseCreateAnswer { return .drop }
        return FakeGeminiPayloads.jsonReply(200, batch.operation(results: false))
    }

    private func get(_ id: String, project: String) -> FakeGeminiReply {
        let operation = updating(id, project: project) { batch, answer in
            batch.advance(to: configuration.clock.now, answer: answer)
            return batch.operation(results: true)
        }
        return operation.map { FakeGeminiPayloads.jsonReply(200, $0) } ?? Self.batchNotFound()
    }

    private func cancel(_ id: String, project: String) -> FakeGeminiReply {
        let done = updating(id, project: project) { batch, answer in
            batch.cancel(at: configuration.clock.now, answer: answer)
            return [String: Any]()
        }
        return done.map { FakeGeminiPayloads.jsonReply(200, $0) } ?? Self.batchNotFound()
    }

    private func delete(_ id: String, project: String) -> FakeGeminiReply {
        let removed = batchBook.withLock { book -> Bool in
            guard let index = book.index(of: id), book.batches[index].project == project else { return false }
            book.batches.remove(at: index)
            return true
        }
        return removed ? FakeGeminiPayloads.jsonReply(200, [String: Any]()) : Self.batchNotFound()
    }

    /// `pageSize` (default 10, at most 100) operations of the project's batches, newest first, from `pageToken`.
    private func list(project: String, query: [String: String]) -> FakeGeminiReply {
        let size = min(100, max(1, Int(query["pageSize"] ?? "") ?? 10))
        let start = Int(query["pageToken"] ?? "") ?? 0
        let now = configuration.clock.now
        let (page, more) = batchBook.withLock { book -> ([[String: Any]], Bool) in
            let mine = book.index(ofProject: project).reversed().map { $0 }
            for index in mine {
                let snapshot = book.batches[index]
                book.batches[index].advance(to: now) { self.process($0, of: snapshot) }
            }
            let slice = mine.dropFirst(start).prefix(size)
            return (slice.map { book.batches[$0].operation(results: false) }, start + size < mine.count)
        }
        var body: [String: Any] = ["operations": page]
        if more { body["nextPageToken"] = String(start + size) }
        return FakeGeminiPayloads.jsonReply(200, body)
    }

    /// Runs `change` on the project's batch `id` (nil when there is none).
    private func updating(
        _ id: String, project: String, _ change: (inout FakeGeminiBatch, (FakeGeminiBatch.Request) -> Data) -> [String: Any]
    ) -> [String: Any]? {
        let result: Data? = batchBook.withLock { book in
            guard let index = book.index(of: id), book.batches[index].project == project else { return nil }
            let snapshot = book.batches[index]
            let object = change(&book.batches[index]) { self.process($0, of: snapshot) }
            return FakeGeminiPayloads.json(object)
        }
        return result.flatMap { (try? JSONSerialization.jsonObject(with: $0)) as? [String: Any] }
    }

    /// Processes one request of `batch` as an online request would be answered, logs it (lane
    /// "batch") and returns its result entry.
    func process(_ request: FakeGeminiBatch.Request, of batch: FakeGeminiBatch) -> Data {
        var entry = FakeGeminiRequestLogEntry(
            time: Date(), path: "/v1beta/\(batch.name)", keyLabel: batch.keyLabel, keySource: "batch", project: batch.project,
            acceptEncoding: nil, model: batch.model, prompt: "", referenceCount: 0, referenceMimeTypes: [], aspectRatio: nil,
            imageSize: nil, responseModalities: [], kind: "", status: nil)
        entry.lane = "batch"
        let reply = answer(request.parsed, model: batch.model, key: "batch:" + batch.keyLabel, project: batch.project, entry: &entry, online: false)
        entry.status = reply.status
        log(entry)
        var result: [String: Any] = ["metadata": ["key": request.key]]
        switch reply {
        case .http(200, _, let body):
            result["response"] = (try? JSONSerialization.jsonObject(with: body)) ?? [String: Any]()
        case .http(let status, _, let body):
            let error = ((try? JSONSerialization.jsonObject(with: body)) as? [String: Any])?["error"]
            result["error"] = error ?? ["code": status, "message": "HTTP \(status)", "status": "UNKNOWN"]
        case .drop, .hang:
            result["error"] = ["code": 500, "message": "An internal error has occurred.", "status": "INTERNAL"]
        }
        return FakeGeminiPayloads.json(result)
    }

    /// Every batch, advanced to now.
    func batchRecords() -> [FakeGeminiBatchRecord] {
        let now = configuration.clock.now
        return batchBook.withLock { book in
            for index in book.batches.indices {
                let snapshot = book.batches[index]
                book.batches[index].advance(to: now) { self.process($0, of: snapshot) }
            }
            return book.batches.map(\.record)
        }
    }

    static func batchNotFound() -> FakeGeminiReply {
        FakeGeminiPayloads.error(404, "NOT_FOUND", "Requested entity was not found.")
    }
}

extension FakeGeminiBatchBook {
    /// The indices of the project's batches, oldest first.
    func index(ofProject project: String) -> [Int] {
        batches.indices.filter { batches[$0].project == project }
    }
}
