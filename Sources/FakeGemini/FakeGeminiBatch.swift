import Foundation

/// One batch in the fake: its requests, its fault, and how far it got. Its state moves with the
/// fake's clock: PENDING for the pending time, RUNNING while its requests are processed one at a
/// time at a steady rate over the running time, then its end.
struct FakeGeminiBatch: Sendable {
    /// One inline request and, once processed, its result entry (JSON).
    struct Request: Sendable {
        var key: String
        var parsed: FakeGeminiRequestParser.Parsed
        var result: Data?
    }

    /// Where the batch is (`BATCH_STATE_*`).
    enum Phase: String, Sendable {
        case pending = "BATCH_STATE_PENDING"
        case running = "BATCH_STATE_RUNNING"
        case succeeded = "BATCH_STATE_SUCCEEDED"
        case failed = "BATCH_STATE_FAILED"
        case cancelled = "BATCH_STATE_CANCELLED"
        case expired = "BATCH_STATE_EXPIRED"

        var isTerminal: Bool {
            switch self {
            case .pending, .running: false
            case .succeeded, .failed, .cancelled, .expired: true
            }
        }
    }

    let id: String
    let displayName: String
    let model: String
    let project: String
    let keyLabel: String
    let created: ContinuousClock.Instant
    let createdAt: Date
    let pending: Duration
    let running: Duration
    let fault: FakeGeminiBatchFault?
    var requests: [Request]
    var phase: Phase = .pending

    var name: String { "batches/\(id)" }
    var processed: Int { requests.filter { $0.result != nil }.count }

    /// Moves the batch to where it is at `now`, processing the requests due with `answer`.
    mutating func advance(to now: ContinuousClock.Instant, answer: (Request) -> Data) {
        guard !phase.isTerminal, fault != .stuckPending else { return }
        let start = created + pending
        guard now >= start else { return }
        switch fault {
        case .expire:
            phase = .expired
            return
        case .fail:
            phase = .failed
            return
        default:
            break
        }
        phase = .running
        let count = requests.count
        var due = count
        if running > .zero && count > 0 { due = min(count, Int(((now - start) / (running / count)).rounded(.down))) }
        if case .partialThenCancelled(let limit) = fault { due = min(due, limit) }
        for index in requests.indices.prefix(due) where requests[index].result == nil {
            requests[index].result = answer(requests[index])
        }
        if processed == count {
            phase = .succeeded
        } else if case .partialThenCancelled(let limit) = fault, processed >= limit {
            phase = .cancelled
        }
    }

    /// Cancels it at `now` (after processing what was due): what was processed stays, billed.
    mutating func cancel(at now: ContinuousClock.Instant, answer: (Request) -> Data) {
        advance(to: now, answer: answer)
        if !phase.isTerminal { phase = .cancelled }
    }

    /// The Operation Gemini answers for it; with `results`, the inlined results once it ended.
    func operation(results: Bool) -> [String: Any] {
        let succeeded = requests.filter { entry in entry.result.map { !Self.isError($0) } ?? false }.count
        let failed = processed - succeeded
        var metadata: [String: Any] = [
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.GenerateContentBatch",
            "name": name, "model": "models/\(model)", "displayName": displayName, "state": phase.rawValue,
            "createTime": ISO8601DateFormatter().string(from: createdAt),
            "batchStats": [
                "requestCount": String(requests.count), "successfulRequestCount": String(succeeded),
                "failedRequestCount": String(failed), "pendingRequestCount": String(phase.isTerminal ? 0 : requests.count - processed),
            ],
        ]
        if phase.isTerminal { metadata["endTime"] = ISO8601DateFormatter().string(from: Date()) }
        var operation: [String: Any] = ["name": name, "metadata": metadata]
        guard phase.isTerminal else { return operation }
        operation["done"] = true
        if phase == .failed {
            operation["error"] = ["code": 13, "message": "The batch failed: an internal error occurred.", "status": "INTERNAL"]
        }
        if results {
            let inlined = requests.compactMap { $0.result.flatMap { try? JSONSerialization.jsonObject(with: $0) } }
            operation["response"] = [
                "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.GenerateContentBatchOutput",
                "inlinedResponses": ["inlinedResponses": inlined],
            ]
        }
        return operation
    }

    private static func isError(_ entry: Data) -> Bool {
        ((try? JSONSerialization.jsonObject(with: entry)) as? [String: Any])?["error"] != nil
    }

    /// What a test reads of it.
    var record: FakeGeminiBatchRecord {
        FakeGeminiBatchRecord(
            name: name, displayName: displayName, model: model, project: project, keyLabel: keyLabel,
            state: phase.rawValue, keys: requests.map(\.key), prompts: requests.map(\.parsed.prompt),
            processedKeys: requests.filter { $0.result != nil }.map(\.key))
    }
}
