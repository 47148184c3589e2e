import Foundation
import ImageGenEngine
import Synchronization

/// An in-memory Batch API for engine tests: batches advance one state per poll (pending, running,
/// then their end), faults are chosen per batch by creation order, and every call is recorded. The
/// end-to-end tests run the same lane against the fake Gemini over HTTP.
final class ScriptedBatchProvider: ImageProvider, BatchProvider {
    /// How a batch ends.
    enum End: Sendable, Equatable {
        case succeed
        case expire
        case fail
        /// Never leaves PENDING (until cancelled).
        case stuck
    }

    /// What happens to the batch created `n`-th (0-based).
    struct Script: Sendable {
        var end: End = .succeed
        /// Polls it answers PENDING, then RUNNING, before its end.
        var pendingPolls = 1
        var runningPolls = 1
        /// The create call creates the batch and then fails as a dropped connection does.
        var loseCreateAnswer = false
        /// The create call fails as a dropped connection does without creating anything.
        var failCreateUnsent = false
        /// On cancel, this many of its requests (in order) were processed.
        var processedBeforeCancel = 0
    }

    struct Batch: Sendable {
        var name: String
        var displayName: String
        var model: String
        var project: String
        var keys: [String]
        var prompts: [String]
        var referenceCounts: [Int]
        var state: BatchState = .pending
        var polls = 0
        var script: Script
        var processed: [String] = []
        var deleted = false
    }

    let name = "scripted-batch"
    private let scripts: @Sendable (Int) -> Script
    /// A per-request answer by prompt: nil is an image.
    private let answer: @Sendable (String) -> ProviderFailure?
    private let state = Mutex<(batches: [Batch], online: [String], creates: Int, lists: Int, cancels: [String])>(([], [], 0, 0, []))
    /// Failures the next polls throw, in order.
    private let pollFailures: Mutex<[ProviderFailure]>

    init(
        scripts: @escaping @Sendable (Int) -> Script = { _ in Script() },
        answer: @escaping @Sendable (String) -> ProviderFailure? = { _ in nil },
        pollFailures: [ProviderFailure] = []
    ) {
        self.scripts = scripts
        self.answer = answer
        self.pollFailures = Mutex(pollFailures)
    }

    var pollFailuresLeft: Int { pollFailures.withLock { $0.count } }

    var batches: [Batch] { state.withLock { $0.batches } }
    var onlinePrompts: [String] { state.withLock { $0.online } }
    var createCalls: Int { state.withLock { $0.creates } }
    var listCalls: Int { state.withLock { $0.lists } }
    var cancelled: [String] { state.withLock { $0.cancels } }

    func generate(_ request: ImageRequest) async throws -> GeneratedImage {
        state.withLock { $0.online.append(request.prompt) }
        return try ScriptedProvider.image(for: request.prompt)
    }

    func createBatch(_ submission: BatchSubmission) async throws -> BatchSnapshot {
        let snapshot: BatchSnapshot? = state.withLock { state in
            let script = scripts(state.creates)
            state.creates += 1
            if script.failCreateUnsent { return nil }
            let batch = Batch(
                name: "batches/b\(state.batches.count + 1)", displayName: submission.displayName, model: submission.model,
                project: submission.key.project, keys: submission.entries.map(\.key),
                prompts: submission.entries.map(\.request.prompt),
                referenceCounts: submission.entries.map(\.request.references.count), script: script)
            state.batches.append(batch)
            return script.loseCreateAnswer ? nil : Self.snapshot(batch, results: false)
        }
        guard let snapshot else {
            throw ProviderFailure.transient(status: nil, message: "connection dropped", outcomeUnknown: true)
        }
        return snapshot
    }

    func batch(named name: String, key: APIKey, timeout: Duration) async throws -> BatchSnapshot? {
        if let failure = pollFailures.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) { throw failure }
        let found: Batch? = state.withLock { state in
            guard let index = state.batches.firstIndex(where: { $0.name == name && !$0.deleted }) else { return nil }
            Self.advance(&state.batches[index])
            return state.batches[index]
        }
        guard let found else { return nil }
        return try Self.snapshot(found, results: true, answer: answer)
    }

    func listBatches(key: APIKey, pageToken: String?, timeout: Duration) async throws -> BatchPage {
        let all: [Batch] = state.withLock { state in
            state.lists += 1
            return state.batches.filter { $0.project == key.project && !$0.deleted }.reversed()
        }
        // Pages of one, to make the search page through.
        let start = Int(pageToken ?? "0") ?? 0
        guard start < all.count else { return BatchPage(batches: []) }
        return BatchPage(
            batches: [Self.snapshot(all[start], results: false)], nextPageToken: start + 1 < all.count ? "\(start + 1)" : nil)
    }

    func cancelBatch(named name: String, key: APIKey, timeout: Duration) async throws {
        state.withLock { state in
            state.cancels.append(name)
            guard let index = state.batches.firstIndex(where: { $0.name == name }),
                !state.batches[index].state.isTerminal else { return }
            let count = state.batches[index].script.processedBeforeCancel
            state.batches[index].processed = Array(state.batches[index].keys.prefix(count))
            state.batches[index].state = .cancelled
        }
    }

    /// Lets every batch waiting in PENDING finish at its next poll.
    func finishStuckBatches() {
        state.withLock { state in
            for index in state.batches.indices where state.batches[index].script.end != .stuck {
                state.batches[index].script.pendingPolls = 0
                state.batches[index].script.runningPolls = 0
            }
        }
    }

    func deleteBatch(named name: String, key: APIKey, timeout: Duration) async throws {
        state.withLock { state in
            if let index = state.batches.firstIndex(where: { $0.name == name }) { state.batches[index].deleted = true }
        }
    }

    private static func advance(_ batch: inout Batch) {
        guard !batch.state.isTerminal else { return }
        batch.polls += 1
        if batch.script.end == .stuck { return }
        if batch.polls <= batch.script.pendingPolls { return }
        if batch.polls <= batch.script.pendingPolls + batch.script.runningPolls {
            batch.state = .running
            return
        }
        switch batch.script.end {
        case .succeed:
            batch.state = .succeeded
            batch.processed = batch.keys
        case .expire: batch.state = .expired
        case .fail: batch.state = .failed
        case .stuck: break
        }
    }

    private static func snapshot(_ batch: Batch, results: Bool) -> BatchSnapshot {
        BatchSnapshot(
            name: batch.name, displayName: batch.displayName, model: batch.model, state: batch.state,
            stats: BatchStats(
                requestCount: batch.keys.count, successful: batch.processed.count, failed: 0,
                pending: batch.state.isTerminal ? 0 : batch.keys.count))
    }

    private static func snapshot(_ batch: Batch, results: Bool, answer: (String) -> ProviderFailure?) throws -> BatchSnapshot {
        var snapshot = snapshot(batch, results: false)
        guard results, batch.state.isTerminal else { return snapshot }
        var failed = 0
        for key in batch.processed {
            let prompt = batch.prompts[batch.keys.firstIndex(of: key)!]
            if let failure = answer(prompt) {
                snapshot.results[key] = .failure(failure)
                failed += 1
            } else {
                snapshot.results[key] = .success(try ScriptedProvider.image(for: prompt))
            }
        }
        snapshot.stats.successfulRequestCount = batch.processed.count - failed
        snapshot.stats.failedRequestCount = failed
        return snapshot
    }
}
