import Foundation

extension StyleRunner {
    /// A finished child task.
    enum Completion: Sendable {
        case attempt(AttemptOutcome)
        case tick
    }

    /// What one request of a beat ended in, and on which key slot.
    struct AttemptOutcome: Sendable {
        let index: Int
        let slot: Int
        let result: AttemptResult
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
                case .rateLimited(_, let perDay, _): return !perDay
                case .badRequest, .configuration, .blocked, .noImage: return true
                }
            }
        }
    }

    /// Sends one request of `beat` on the key in `slot` once its project's pace allows, and stores
    /// the image and its record. Runs in a child task of the loop; `counters` are the beat's at dispatch.
    func attempt(
        _ beat: PlannedBeat, slot: Int, key: APIKey, gate: PaceGate, counters: BeatCounters, predecessorFile: String?,
        plan: Plan, store: ProgressStore,
        io: BlockingIO
    ) async -> AttemptOutcome {
        var references: [ReferenceImage] = []
        if beat.attachStyleReference, let reference = plan.styleReference { references.append(reference) }
        var predecessorSHA: String?
        if let predecessor = beat.predecessor {
            let path = predecessorFile ?? plan.beats[predecessor].relativeStem + ".png"
            let limit = configuration.maxReferenceImageBytes
            let read: Data?
            do {
                read = try await io.run { [project] in
                    try project.readFile(path, limit: limit, limitName: "maxReferenceImageBytes")
                }
            } catch {
                return AttemptOutcome(
                    index: beat.index, slot: slot,
                    result: .failure(.badRequest(message: "beat \(beat.beat): predecessor \(beat.predecessorID ?? "?") image cannot be read: \(error)")))
            }
            guard let data = read else {
                return AttemptOutcome(
                    index: beat.index, slot: slot,
                    result: .failure(.badRequest(message: "beat \(beat.beat): predecessor \(beat.predecessorID ?? "?") image \(path) is missing")))
            }
            predecessorSHA = DurableFiles.sha256Hex(data)
            references.append(ReferenceImage(mimeType: ImageSniffer.pngOrJPEG(data) ?? "image/png", data: data))
        }
        let fingerprint = beat.fingerprint(predecessorSHA: predecessorSHA)
        let request = ImageRequest(
            model: style.model, prompt: beat.prompt, references: references, aspectRatio: style.aspectRatio,
            imageSize: style.imageSize, key: key, timeout: style.requestTimeout)
        let clock = ContinuousClock()
        let image: GeneratedImage
        do {
            try await gate.waitTurn()
        } catch {
            return AttemptOutcome(index: beat.index, slot: slot, result: .failure(.cancelled))
        }
        // The pace wait may have outlasted the moment a 429 cooled this project: do not send into it.
        if control.isCooling(key.project, now: clock.now) {
            return AttemptOutcome(index: beat.index, slot: slot, result: .deferred)
        }
        let started = clock.now
        do {
            image = try await provider.generate(request)
        } catch let failure as ProviderFailure {
            if case .transient(_, let message, true) = failure {
                // Record the unknown-outcome attempt before any retry.
                let record = BeatRecord(
                    shot: beat.shot, beat: beat.beat, state: .pending, fingerprint: fingerprint,
                    attempts: counters.requests, unknownOutcomeAttempts: counters.unknownOutcomes + 1,
                    wastedAttempts: counters.wasted, lastError: message, keyLabel: key.label, usage: counters.usage,
                    updatedAt: Date().timeIntervalSince1970)
                try? await store.save(record)
            }
            return AttemptOutcome(index: beat.index, slot: slot, result: .failure(failure))
        } catch is CancellationError {
            return AttemptOutcome(index: beat.index, slot: slot, result: .failure(.cancelled))
        } catch {
            return AttemptOutcome(
                index: beat.index, slot: slot,
                result: .failure(.transient(status: nil, message: "\(error)", outcomeUnknown: false)))
        }
        let elapsed = clock.now - started
        guard let mime = ImageSniffer.pngOrJPEG(image.data) else {
            return AttemptOutcome(
                index: beat.index, slot: slot,
                result: .failure(.noImage(reason: "NOT_AN_IMAGE", message: "the provider returned \(image.data.count) bytes that are not PNG or JPEG")))
        }
        let relative = beat.relativeStem + (mime == "image/jpeg" ? ".jpg" : ".png")
        let sync = configuration.durability == .full
        let data = image.data
        do {
            try await io.run { [project] in try project.writeFile(relative, sync: sync) { append in try append(data) } }
        } catch {
            // ProjectDirectory's errors name the path already.
            let message = (error as? EngineError)?.description ?? "cannot write \(relative): \(error)"
            return AttemptOutcome(index: beat.index, slot: slot, result: .storage(message))
        }
        var usage = counters.usage
        usage.add(image.usage)
        let record = BeatRecord(
            shot: beat.shot, beat: beat.beat, state: .done, file: relative, bytes: data.count,
            sha256: DurableFiles.sha256Hex(data), fingerprint: fingerprint, attempts: counters.requests,
            unknownOutcomeAttempts: counters.unknownOutcomes, wastedAttempts: counters.wasted, keyLabel: key.label,
            usage: usage, updatedAt: Date().timeIntervalSince1970,
            durationSeconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
        do {
            try await store.save(record)
        } catch {
            return AttemptOutcome(index: beat.index, slot: slot, result: .storage("cannot record \(relative): \(error)"))
        }
        return AttemptOutcome(index: beat.index, slot: slot, result: .done(record))
    }
}
