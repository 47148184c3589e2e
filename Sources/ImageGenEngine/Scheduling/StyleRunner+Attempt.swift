import Foundation

extension StyleRunner {
    /// A finished child task.
    enum Completion: Sendable {
        case attempt(AttemptOutcome)
        /// A batch's call (create, find, poll, cancel) finished.
        case batch(BatchStepOutcome)
        case tick
    }

    /// What one request of a beat ended in, on which key slot, and when its pace let it start
    /// (nil if it never got that far).
    struct AttemptOutcome: Sendable {
        let index: Int
        let slot: Int
        let result: AttemptResult
        var startedAt: ContinuousClock.Instant? = nil
    }

    /// How one request ended.
    enum AttemptResult: Sendable {
        case done(BeatRecord)
        case failure(ProviderFailure)
        /// Writing the image or its record failed.
        case storage(String)
        /// Not sent: while it waited for its project's pace, a 429 (in any style or job) started a
        /// cool-down of the project. The beat goes back to the queue; no attempt is counted.
        case deferred

        /// Whether the server answered in a way that shows the key works.
        var answered: Bool {
            switch self {
            case .done, .storage: return true
            case .deferred: return false
            case .failure(let failure):
                switch failure {
                case .keyRejected, .transient, .cancelled: return false
                case .rateLimited(let limit): return !limit.perDay
                case .badRequest, .configuration, .blocked, .noImage: return true
                }
            }
        }
    }

    /// How an attempt ends before it has an image to record: its result is known already.
    struct EndedEarly: Error {
        let result: AttemptResult

        static func failure(_ failure: ProviderFailure) -> EndedEarly { EndedEarly(result: .failure(failure)) }
    }

    /// Sends one request of `beat` on the key in `slot` once its project's pace allows, and stores
    /// the image and its record. Runs in a child task of the loop; `counters` are the beat's at dispatch.
    func attempt(
        _ beat: PlannedBeat, slot: Int, key: APIKey, gate: PaceGate, counters: BeatCounters, predecessorFile: String?,
        plan: Plan, store: ProgressStore, io: BlockingIO
    ) async -> AttemptOutcome {
        let request: ImageRequest
        let fingerprint: String
        do throws(EndedEarly) {
            let (references, predecessorSHA) = try await references(
                for: beat, predecessorFile: predecessorFile, plan: plan, io: io)
            fingerprint = beat.fingerprint(predecessorSHA: predecessorSHA)
            var prepared = ImageRequest(
                model: style.model, prompt: beat.prompt, references: references, aspectRatio: style.aspectRatio,
                imageSize: style.imageSize, key: key, timeout: style.requestTimeout)
            prepared.startedAt = try await turn(on: gate, io: io)
            request = prepared
        } catch {
            return AttemptOutcome(index: beat.index, slot: slot, result: error.result)
        }
        do throws(EndedEarly) {
            let (image, elapsed) = try await send(
                request, of: beat, gate: gate, counters: counters, fingerprint: fingerprint, store: store)
            let record = try await save(
                image, of: beat, key: key, counters: counters, fingerprint: fingerprint, elapsed: elapsed, store: store,
                io: io)
            return AttemptOutcome(index: beat.index, slot: slot, result: .done(record), startedAt: request.startedAt)
        } catch {
            return AttemptOutcome(index: beat.index, slot: slot, result: error.result, startedAt: request.startedAt)
        }
    }

    /// Waits for the quota's pace, then (with a coordinator) for its start across every server;
    /// the instant the request may start.
    private func turn(on gate: PaceGate, io: BlockingIO) async throws(EndedEarly) -> ContinuousClock.Instant {
        let granted: ContinuousClock.Instant
        do {
            granted = try await gate.waitTurn()
        } catch {
            throw .failure(.cancelled)
        }
        guard let coordinator = control.coordinator else { return granted }
        return try await coordinatedStart(of: gate, through: coordinator, io: io)
    }

    /// How long a request start waits before it asks an unreachable coordinator again.
    static var coordinationRetry: Duration { .milliseconds(250) }

    /// Asks the coordinator until it grants a start, and waits for it. A limit another server
    /// learned paces the quota here too; a cool-down or a spent daily quota found by another
    /// server is adopted and the beat deferred, also when it is heard of while a reserved start
    /// is due; while the coordinator cannot answer, nothing starts (fail closed), not even a
    /// start it reserved before.
    private func coordinatedStart(of gate: PaceGate, through coordinator: any QuotaCoordinator, io: BlockingIO)
        async throws(EndedEarly) -> ContinuousClock.Instant
    {
        while true {
            let reply: QuotaGrantReply
            let asked = ContinuousClock.now
            do {
                reply = try await coordinator.grant(gate.quota, spacing: gate.spacing)
                control.noteCoordination(failure: nil)
            } catch {
                control.noteCoordination(failure: error)
                try await pause(Self.coordinationRetry)
                continue
            }
            if let limit = reply.learnedLimit { await adopt(limit, learnedElsewhereFor: gate, io: io) }
            switch reply.grant {
            case .start(let after):
                try await pause(after)
                if try await reservedStartMayGo(gate, askedAt: asked, through: coordinator) { return ContinuousClock.now }
            case .wait(let delay):
                try await pause(delay)
            case .cooling(let delay):
                throw deferred(gate, coolingFor: delay)
            case .dailyQuotaSpent(let until, let reason):
                throw deferred(gate, spentUntil: until, reason: reason)
            }
        }
    }

    /// Whether a start reserved for `gate`'s quota may go now that it is due: not when a 429 this
    /// server met, or one another server met (heard by the coordinator), cools the quota or spent
    /// its day (the beat is deferred), nor while the coordinator cannot be reached (false, after
    /// the retry pause: the start is asked for again).
    private func reservedStartMayGo(
        _ gate: PaceGate, askedAt asked: ContinuousClock.Instant, through coordinator: any QuotaCoordinator
    ) async throws(EndedEarly) -> Bool {
        guard !control.isCooling(gate.quota, now: .now) else { throw EndedEarly(result: .deferred) }
        switch coordinator.withdrawal(ofStartFor: gate.quota, askedAt: asked) {
        case nil:
            return true
        case .unavailable(let error):
            control.noteCoordination(failure: error)
            try await pause(Self.coordinationRetry)
            return false
        case .cooling(let delay):
            throw deferred(gate, coolingFor: delay)
        case .dailyQuotaSpent(let until, let reason):
            throw deferred(gate, spentUntil: until, reason: reason)
        }
    }

    /// Adopts a cool-down another server met (told by the coordinator) for `gate`'s quota; the beat is deferred.
    private func deferred(_ gate: PaceGate, coolingFor delay: Duration) -> EndedEarly {
        control.adoptCoolDown(gate.quota, for: delay)
        return EndedEarly(result: .deferred)
    }

    /// Adopts a daily quota another server found spent (told by the coordinator); the beat is deferred.
    private func deferred(_ gate: PaceGate, spentUntil until: Date, reason: String) -> EndedEarly {
        control.adoptDailyQuotaSpent(gate.quota, until: until, reason: reason)
        return EndedEarly(result: .deferred)
    }

    /// A limit another server learned for `gate`'s quota (the coordinator's reply) paces it here
    /// too: kept in the state directory and told to the job's watchers, as one learned here is.
    private func adopt(_ limit: Double, learnedElsewhereFor gate: PaceGate, io: BlockingIO) async {
        guard !gate.quota.hasImplicitProject, let change = gate.adoptLearned(limit) else { return }
        do {
            try await control.keep(change, of: gate.quota, io: io)
        } catch {
            logger.error("cannot keep the limit another server learned", metadata: ["quota": "\(gate.quota)", "error": "\(error)"])
        }
        control.emit(.message(style: style.name, text: "style \(style.name): \(gate.quota): another server learned it: \(change)"))
    }

    private func pause(_ delay: Duration) async throws(EndedEarly) {
        guard delay > .zero else {
            if Task.isCancelled { throw .failure(.cancelled) }
            return
        }
        do {
            try await Task.sleep(for: delay)
        } catch {
            throw .failure(.cancelled)
        }
    }

    /// The images to attach: the style reference when the beat takes it, then the predecessor's
    /// image (read now: it may have been generated in this job), with the predecessor's SHA-256.
    func references(for beat: PlannedBeat, predecessorFile: String?, plan: Plan, io: BlockingIO)
        async throws(EndedEarly) -> ([ReferenceImage], String?)
    {
        var references: [ReferenceImage] = []
        if beat.attachStyleReference, let reference = plan.styleReference { references.append(reference) }
        guard let predecessor = beat.predecessor else { return (references, nil) }
        let path = predecessorFile ?? plan.beats[predecessor].relativeStem + ".png"
        let limit = configuration.maxReferenceImageBytes
        let read: Data?
        do {
            read = try await io.run { [project] in
                try project.readFile(path, limit: limit, limitName: "maxReferenceImageBytes")
            }
        } catch {
            throw .failure(.badRequest(message: "beat \(beat.beat): predecessor \(beat.predecessorID ?? "?") image cannot be read: \(error)"))
        }
        guard let data = read else {
            throw .failure(.badRequest(message: "beat \(beat.beat): predecessor \(beat.predecessorID ?? "?") image \(path) is missing"))
        }
        references.append(ReferenceImage(mimeType: ImageSniffer.pngOrJPEG(data) ?? "image/png", data: data))
        return (references, DurableFiles.sha256Hex(data))
    }

    /// Sends the request its pace let start; an attempt whose outcome is unknown is recorded
    /// (pending) before any retry. Returns the image and how long the provider took.
    private func send(
        _ request: ImageRequest, of beat: PlannedBeat, gate: PaceGate, counters: BeatCounters, fingerprint: String,
        store: ProgressStore
    ) async throws(EndedEarly) -> (GeneratedImage, Duration) {
        var request = request
        if let granted = request.startedAt {
            request.onSent = { [gate] sentAt in gate.observeSend(startedAt: granted, sentAt: sentAt) }
        }
        // The pace wait may have outlasted the moment a 429 cooled this quota: do not send into it.
        let quota = QuotaID(project: request.key.project, model: request.model)
        if control.isCooling(quota, now: ContinuousClock.now) { throw EndedEarly(result: .deferred) }
        // The provider's time counts from the start the pace granted.
        let started = request.startedAt ?? ContinuousClock.now
        do {
            let image = try await provider.generate(request)
            return (image, ContinuousClock.now - started)
        } catch let failure as ProviderFailure {
            coolAtOnce(quota, after: failure)
            await share(failure, of: quota)
            if case .transient(_, let message, true) = failure {
                var record = BeatRecord(
                    shot: beat.shot, beat: beat.beat, state: .pending, fingerprint: fingerprint,
                    attempts: counters.requests, unknownOutcomeAttempts: counters.unknownOutcomes + 1,
                    wastedAttempts: counters.wasted, lastError: message, keyLabel: request.key.label,
                    usage: counters.usage, updatedAt: Date().timeIntervalSince1970)
                var billed = counters
                billed.bill(price(.online))
                record.spend(billed, lane: .online)
                try? await store.save(record)
            }
            throw .failure(failure)
        } catch is CancellationError {
            throw .failure(.cancelled)
        } catch {
            throw .failure(.transient(status: nil, message: "\(error)", outcomeUnknown: false))
        }
    }

    /// A per-minute 429 cools its quota for every style and job the moment it is answered. The
    /// loop records the key's cool-down (with its backoff, never shorter) when it handles the
    /// outcome, which on a loaded machine can be a while later: a request of another style whose
    /// pace wait ends in between must find the cool-down already there.
    private func coolAtOnce(_ quota: QuotaID, after failure: ProviderFailure) {
        guard case .rateLimited(let limit) = failure, !limit.perDay else { return }
        // The shortest cool-down the pool can then record (a first refusal, no jitter).
        let delay = style.retry.coolDown(retryAfter: limit.retryAfter, refusal: 1, jitter: 0)
        control.cool(quota, until: ContinuousClock.now + delay, foundBy: style.name)
    }

    /// Tells the other servers (through the coordinator) what a 429 taught of `quota`: a per-minute
    /// one cools it for the delay this server cools it; a per-day one sets it aside until midnight
    /// Pacific time. An unreachable coordinator is noted; the local cool-down holds regardless.
    private func share(_ failure: ProviderFailure, of quota: QuotaID) async {
        guard let coordinator = control.coordinator, case .rateLimited(let limit) = failure else { return }
        do {
            if limit.perDay {
                try await coordinator.markDailyQuotaSpent(
                    quota, until: QuotaBook.nextPacificMidnight(after: Date()), reason: "daily quota exhausted")
            } else {
                try await coordinator.cool(quota, for: style.retry.coolDown(retryAfter: limit.retryAfter, refusal: 1, jitter: 0))
            }
        } catch {
            control.noteCoordination(failure: error)
        }
    }

    /// Writes the image (PNG or JPEG, by its bytes) and records the beat as done.
    func save(
        _ image: GeneratedImage, of beat: PlannedBeat, key: APIKey, counters: BeatCounters, fingerprint: String,
        elapsed: Duration?, lane: Delivery = .online, batch: String? = nil, store: ProgressStore, io: BlockingIO
    ) async throws(EndedEarly) -> BeatRecord {
        guard let mime = ImageSniffer.pngOrJPEG(image.data) else {
            throw .failure(.noImage(reason: "NOT_AN_IMAGE", message: "the provider returned \(image.data.count) bytes that are not PNG or JPEG"))
        }
        let relative = beat.relativeStem + (mime == "image/jpeg" ? ".jpg" : ".png")
        let sync = configuration.durability == .full
        let data = image.data
        do {
            try await io.run { [project] in try project.writeFile(relative, sync: sync) { append in try append(data) } }
        } catch {
            // ProjectDirectory's errors name the path already.
            throw EndedEarly(result: .storage((error as? EngineError)?.description ?? "cannot write \(relative): \(error)"))
        }
        var usage = counters.usage
        usage.add(image.usage)
        var billed = counters
        billed.bill(price(lane))
        var record = BeatRecord(
            shot: beat.shot, beat: beat.beat, state: .done, file: relative, bytes: data.count,
            sha256: DurableFiles.sha256Hex(data), fingerprint: fingerprint, attempts: counters.requests,
            unknownOutcomeAttempts: counters.unknownOutcomes, wastedAttempts: counters.wasted, keyLabel: key.label,
            usage: usage, updatedAt: Date().timeIntervalSince1970,
            durationSeconds: elapsed?.seconds)
        record.spend(billed, lane: lane, batch: batch)
        do {
            try await store.save(record)
        } catch {
            throw EndedEarly(result: .storage("cannot record \(relative): \(error)"))
        }
        return record
    }
}
