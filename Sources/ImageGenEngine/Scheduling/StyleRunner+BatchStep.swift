import Foundation

extension StyleRunner {
    /// The one call a batch's step makes.
    enum BatchCall: Sendable {
        case create
        case find
        case poll
        case cancel
    }

    /// Everything a batch's step needs of the loop, copied at launch.
    struct BatchStepContext: Sendable {
        let provider: any BatchProvider
        let ledger: BatchLedgerStore
        let gate: PaceGate
        let plan: Plan
        let store: ProgressStore
        let io: BlockingIO
        /// The image of each beat's predecessor, by the beat's index (when known).
        let predecessorFiles: [Int: String]
        /// Each beat's counters at launch, by index.
        let counters: [Int: BeatCounters]
    }

    /// What a batch's step ended in.
    struct BatchStepOutcome: Sendable {
        let displayName: String
        let result: BatchStepResult
    }

    /// How a batch's step ended.
    enum BatchStepResult: Sendable {
        /// Created; its name is in the ledger.
        case created(BatchSnapshot)
        /// Looked for by display name in a complete listing: found (its name now in the ledger), or not there.
        case found(BatchSnapshot?)
        /// Polled; not ended yet.
        case polled(BatchSnapshot)
        /// Ended; each beat with a result has it stored (images written, records saved), by plan index.
        case ended(BatchSnapshot, [Int: AttemptResult])
        /// Gemini does not know the batch (404).
        case gone
        /// The cancel was sent.
        case cancelSent
        /// The call failed.
        case failed(ProviderFailure)
        /// Recording what the call found in the ledger failed.
        case storage(String)
    }

    /// Waits `delay` and its pace, then makes `call` for `run`. Runs in a child task of the loop.
    func batchStep(_ call: BatchCall, of run: BatchRun, after delay: Duration, context: BatchStepContext) async
        -> BatchStepOutcome
    {
        let result: BatchStepResult
        do {
            if delay > .zero { try await Task.sleep(for: delay) }
            _ = try await context.gate.waitTurn()
            result = try await perform(call, of: run, context: context)
        } catch let failure as ProviderFailure {
            result = .failed(failure)
        } catch is CancellationError {
            result = .failed(.cancelled)
        } catch let error as EngineError {
            result = .storage(error.description)
        } catch {
            result = .failed(.transient(status: nil, message: "\(error)", outcomeUnknown: false))
        }
        return BatchStepOutcome(displayName: run.displayName, result: result)
    }

    private func perform(_ call: BatchCall, of run: BatchRun, context: BatchStepContext) async throws -> BatchStepResult {
        let timeout = style.requestTimeout
        switch call {
        case .create:
            let snapshot = try await context.provider.createBatch(try await submission(for: run, context: context))
            try await record(name: snapshot.name, of: run, in: context.ledger)
            return .created(snapshot)
        case .find:
            guard let snapshot = try await find(run.displayName, key: run.key, context: context) else { return .found(nil) }
            try await record(name: snapshot.name, of: run, in: context.ledger)
            return .found(snapshot)
        case .poll:
            guard let name = run.name else { return .gone }
            guard let snapshot = try await context.provider.batch(named: name, key: run.key, timeout: timeout) else {
                return .gone
            }
            guard snapshot.state.isTerminal else { return .polled(snapshot) }
            return .ended(snapshot, await collect(snapshot, of: run, context: context))
        case .cancel:
            guard let name = run.name else { return .gone }
            do {
                try await context.provider.cancelBatch(named: name, key: run.key, timeout: timeout)
            } catch let failure as ProviderFailure {
                // Refused (it ended meanwhile, or cannot be cancelled): the next poll says how it ended.
                switch failure {
                case .badRequest, .configuration: break
                case .rateLimited, .keyRejected, .transient, .blocked, .noImage, .cancelled: throw failure
                }
            }
            return .cancelSent
        }
    }

    /// The batch's requests, each exactly as it would be sent online.
    private func submission(for run: BatchRun, context: BatchStepContext) async throws -> BatchSubmission {
        var entries: [BatchSubmission.Entry] = []
        for member in run.members {
            let (index, beatKey) = (member.index, member.key)
            let beat = context.plan.beats[index]
            let references: [ReferenceImage]
            do throws(EndedEarly) {
                (references, _) = try await self.references(
                    for: beat, predecessorFile: context.predecessorFiles[index], plan: context.plan, io: context.io)
            } catch {
                guard case .failure(let failure) = error.result else { throw ProviderFailure.cancelled }
                throw failure
            }
            let request = ImageRequest(
                model: style.model, prompt: beat.prompt, references: references, aspectRatio: style.aspectRatio,
                imageSize: style.imageSize, key: run.key, timeout: style.requestTimeout)
            entries.append(BatchSubmission.Entry(key: beatKey, request: request))
        }
        return BatchSubmission(
            model: style.model, displayName: run.displayName, key: run.key, entries: entries,
            timeout: style.requestTimeout)
    }

    /// Lists the project's batches, every page, for the one called `displayName`.
    private func find(_ displayName: String, key: APIKey, context: BatchStepContext) async throws -> BatchSnapshot? {
        var token: String?
        var pages = 0
        repeat {
            let page = try await context.provider.listBatches(key: key, pageToken: token, timeout: style.requestTimeout)
            if let match = page.batches.first(where: { $0.displayName == displayName }) { return match }
            token = page.nextPageToken.flatMap { $0.isEmpty ? nil : $0 }
            pages += 1
            // A listing that never ends is not complete: say so rather than create the batch again.
            if pages > Self.maxListPages {
                throw ProviderFailure.transient(
                    status: nil, message: "listing batches: more than \(Self.maxListPages) pages; cannot tell whether \(displayName) exists",
                    outcomeUnknown: false)
            }
        } while token != nil
        return nil
    }

    /// The most pages of batches a search by display name reads.
    static var maxListPages: Int { 1_000 }

    private func record(name: String, of run: BatchRun, in ledger: BatchLedgerStore) async throws(EngineError) {
        let displayName = run.displayName
        try await ledger.update { ledger in
            if let index = ledger.entries.firstIndex(where: { $0.displayName == displayName }) {
                ledger.entries[index].name = name
            }
        }
    }

    /// Stores each result of an ended batch through the same path as an online answer.
    private func collect(_ snapshot: BatchSnapshot, of run: BatchRun, context: BatchStepContext) async -> [Int: AttemptResult] {
        var results: [Int: AttemptResult] = [:]
        for member in run.members {
            let (index, beatKey) = (member.index, member.key)
            guard let result = snapshot.results[beatKey] else { continue }
            switch result {
            case .failure(let failure):
                results[index] = .failure(failure)
            case .success(let image):
                results[index] = await store(image, of: index, in: run, context: context)
            }
        }
        return results
    }

    private func store(_ image: GeneratedImage, of index: Int, in run: BatchRun, context: BatchStepContext) async
        -> AttemptResult
    {
        let beat = context.plan.beats[index]
        do throws(EndedEarly) {
            let (_, predecessorSHA) = try await references(
                for: beat, predecessorFile: context.predecessorFiles[index], plan: context.plan, io: context.io)
            let record = try await save(
                image, of: beat, key: run.key, counters: context.counters[index] ?? BeatCounters(),
                fingerprint: beat.fingerprint(predecessorSHA: predecessorSHA), elapsed: nil, lane: .batch,
                batch: run.displayName, store: context.store, io: context.io)
            return .done(record)
        } catch {
            return error.result
        }
    }
}
