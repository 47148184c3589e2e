import Foundation
internal import DequeModule
import Logging

/// Renders one style of one job: plans which beats need work, then dispatches them over the
/// style's keys at each project's pace, retrying, cooling and disabling keys as failures say.
/// All decisions are made in one loop (``run()``); each request runs in a child task of it.
struct StyleRunner: Sendable {
    typealias Instant = ContinuousClock.Instant

    let style: StyleConfiguration
    let provider: any ImageProvider
    let project: ProjectDirectory
    let storyboard: ValidatedStoryboard
    let force: Bool
    let configuration: EngineConfiguration
    let control: JobControl
    let logger: Logger

    /// A finished child task.
    enum Completion: Sendable {
        case attempt(AttemptOutcome)
        case tick
    }

    struct AttemptOutcome: Sendable {
        let index: Int
        let slot: Int
        let result: AttemptResult
    }

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

    /// Per-beat counters for this job.
    struct BeatCounters: Sendable {
        var requests = 0
        var transientFailures = 0
        var unknownOutcomes = 0
        var rateLimited = 0
        var noImage = 0
        var wasted = 0
        var usage = TokenUsage()
        var lastError: String?
    }

    private var isOffline: Bool { style.keys.isEmpty }

    private var effectiveKeys: [APIKey] {
        isOffline ? [APIKey(secret: "", project: "offline", label: "\(style.name)#offline")] : style.keys
    }

    func run() async -> StyleReport {
        let clock = ContinuousClock()
        let started = clock.now
        let total = storyboard.beatCount
        var spend = SpendCounters()
        let keysTotal = style.keys.count

        func summary(_ state: JobOutcome, done: Int = 0, failed: Int = 0, skipped: Int = 0, error: String? = nil)
            -> StyleReport
        {
            StyleReport(
                style: style.name, provider: provider.name, state: state, total: total, done: done, failed: failed,
                skipped: skipped, duration: clock.now - started, spend: spend, error: error)
        }

        // Cancelled before it began: nothing to open, plan or record.
        if Task.isCancelled {
            control.emit(.message(style: style.name, text: "style \(style.name): cancelled before it started"))
            return summary(.cancelled)
        }

        // Open the progress store and plan.
        let store: ProgressStore
        do {
            store = try await ProgressStore.open(
                directory: project, style: style.name, durability: configuration.durability,
                compactionLines: configuration.journalCompactionLines)
        } catch {
            let message = "style \(style.name): \(error.description)"
            control.emit(.message(style: style.name, text: message))
            logger.error("style failed", metadata: ["style": "\(style.name)", "error": "\(error.description)"])
            return summary(.failed, failed: total, error: message)
        }
        let io = BlockingIO(label: "imagegen.images.\(style.name)")
        let plan: Plan
        do {
            plan = try await io.run { [self] in try self.makePlan(store: store) }
        } catch {
            let message = "style \(style.name): cannot plan: \(error)"
            control.emit(.message(style: style.name, text: message))
            try? await store.close()
            return summary(.failed, failed: total, error: message)
        }

        var pool = KeyPool(
            keys: effectiveKeys, requestsPerMinute: isOffline ? 0 : style.requestsPerMinute,
            paceMarginPercent: configuration.paceMarginPercent,
            maxInFlightPerProject: isOffline ? configuration.offline.concurrency : style.maxInFlightPerProject,
            now: clock.now, verified: isOffline,
            gate: isOffline ? nil : { [control] project, spacing in control.gate(project: project, spacing: spacing) })
        let beats = plan.beats
        var counters = [BeatCounters](repeating: BeatCounters(), count: beats.count)
        /// The image of each beat known to be done (skipped or generated in this job), relative to the project.
        var files = [String?](repeating: nil, count: beats.count)
        var ready = Deque<Int>()
        var delayed: [(index: Int, at: Instant)] = []
        var dependents: [Int: [Int]] = [:]
        var skipped = 0
        var done = 0
        var failed = 0
        var inFlight = 0
        var styleError: String?
        var cancelled = false

        func event(_ index: Int, _ state: BeatUpdate.State, attempt: Int = 0, key: String? = nil, path: String? = nil,
                   bytes: Int? = nil, sha: String? = nil, error: String? = nil, retryIn: Duration? = nil) {
            let beat = beats[index]
            control.emit(
                .beat(BeatUpdate(
                    style: style.name, shotID: beat.shot, beatID: beat.beat, state: state, attempt: attempt, keyLabel: key,
                    outputPath: path, bytes: bytes, sha256: sha, error: error, retryIn: retryIn)))
        }

        func publish() {
            let (cooling, disabled) = pool.counts(now: clock.now)
            let completed = skipped + done
            control.publish(
                StyleCounters(
                    style: style.name, total: total, completed: completed, failed: failed, inFlight: inFlight,
                    percent: total == 0 ? 100 : Double(completed) * 100 / Double(total), keysTotal: keysTotal,
                    keysCooling: isOffline ? 0 : cooling, keysDisabled: isOffline ? 0 : disabled))
        }

        for (index, decision) in plan.decisions.enumerated() {
            switch decision {
            case .skip(let record):
                skipped += 1
                files[index] = record.file
                event(index, .skipped, path: record.file, bytes: record.bytes, sha: record.sha256)
            case .generate:
                if let predecessor = beats[index].predecessor, case .generate = plan.decisions[predecessor] {
                    dependents[predecessor, default: []].append(index)
                    event(index, .waiting, path: beats[index].relativeStem + ".png")
                } else {
                    ready.append(index)
                    event(index, .queued, path: beats[index].relativeStem + ".png")
                }
            }
        }
        publish()

        // Records a beat as failed (durably) and fails the beats waiting on it, recursively.
        func failBeat(_ index: Int, reason: String) async {
            var stack = [(index, reason)]
            while let (current, why) = stack.popLast() {
                failed += 1
                let beat = beats[current]
                let c = counters[current]
                let record = BeatRecord(
                    shot: beat.shot, beat: beat.beat, state: .failed, attempts: c.requests,
                    unknownOutcomeAttempts: c.unknownOutcomes, wastedAttempts: c.wasted, lastError: why,
                    usage: c.usage, updatedAt: Date().timeIntervalSince1970)
                do { try await store.save(record) } catch {
                    logger.error("cannot record failure", metadata: ["style": "\(style.name)", "error": "\(error)"])
                }
                event(current, .failed, attempt: c.requests, error: why)
                logger.warning("beat failed", metadata: ["style": "\(style.name)", "beat": "\(beat.beat)", "reason": "\(why)"])
                for dependent in (dependents.removeValue(forKey: current) ?? []).reversed() {
                    stack.append((dependent, "beat \(beats[dependent].beat): predecessor \(beat.beat) failed"))
                }
            }
        }

        func keyEvent(_ key: APIKey, _ state: KeyUpdate.State, duration: Duration? = nil, reason: String) {
            logger.info(
                "key \(state.rawValue)",
                metadata: [
                    "style": "\(style.name)", "key": "\(key.label)", "project": "\(key.project)", "reason": "\(reason)",
                    "duration": "\(duration.map { "\($0)" } ?? "-")",
                ])
            control.emit(
                .key(KeyUpdate(style: style.name, keyLabel: key.label, project: key.project, state: state, duration: duration,
                              reason: reason)))
        }

        await withTaskGroup(of: Completion.self) { group in
            var sleepers: [Instant] = []
            var lastDispatchPublish = clock.now - .seconds(1)
            while true {
                let now = clock.now
                for (key, delay) in pool.adoptCoolings(control.projectCoolings(now: now), now: now) {
                    keyEvent(key, .cooling, duration: delay, reason: "rate limited: project \(key.project) cooling (a 429 in another style or job)")
                }
                for (key, reason) in pool.adoptSpentDailyQuotas(control.spentDailyQuotas()) {
                    keyEvent(key, .exhausted, reason: "\(reason) (found by another style or job; resets at midnight Pacific time)")
                }
                for key in pool.endCoolings(now: now) { keyEvent(key, .ready, reason: "cool-down over") }
                if !delayed.isEmpty {
                    let due = delayed.filter { $0.at <= now }.map(\.index)
                    if !due.isEmpty {
                        delayed.removeAll { $0.at <= now }
                        for index in due.reversed() { ready.prepend(index) }
                    }
                }
                if Task.isCancelled { cancelled = true }
                let paused = control.isPaused
                var blockedByJobCap = false
                var dispatched = false
                if !cancelled && styleError == nil && !paused {
                    while let index = ready.first {
                        guard control.tryAcquireSlot() else {
                            blockedByJobCap = true
                            break
                        }
                        guard let slot = pool.acquire(now: clock.now) else {
                            control.releaseSlot()
                            break
                        }
                        ready.removeFirst()
                        dispatched = true
                        inFlight += 1
                        counters[index].requests += 1
                        spend.requests += 1
                        let key = pool.slots[slot].key
                        let beat = beats[index]
                        let snapshot = counters[index]
                        let gate = pool.gate(slot)
                        let predecessorFile = beat.predecessor.flatMap { files[$0] }
                        event(index, .generating, attempt: snapshot.requests, key: key.label,
                              path: beat.relativeStem + ".png")
                        group.addTask {
                            .attempt(await self.attempt(beat, slot: slot, key: key, gate: gate, counters: snapshot,
                                                        predecessorFile: predecessorFile, plan: plan, store: store,
                                                        io: io))
                        }
                    }
                    // Completions publish anyway; on dispatch, publish at most every 50 ms.
                    if dispatched && clock.now - lastDispatchPublish >= .milliseconds(50) {
                        lastDispatchPublish = clock.now
                        publish()
                    }
                }
                let finishedWork = ready.isEmpty && delayed.isEmpty
                if inFlight == 0 && (cancelled || styleError != nil || finishedWork) { break }

                // When must the loop wake up if no request finishes first?
                var wake: Instant?
                func consider(_ time: Instant?) {
                    guard let time else { return }
                    wake = wake.map { min($0, time) } ?? time
                }
                if !cancelled && styleError == nil {
                    if paused || blockedByJobCap {
                        consider(now + .milliseconds(paused ? 50 : 10))
                    } else if !ready.isEmpty {
                        consider(pool.nextReadyTime(now: now))
                    }
                    consider(delayed.map(\.at).min())
                    consider(pool.nextCoolingEnd())
                }
                if let wake, sleepers.allSatisfy({ wake < $0 }) {
                    sleepers.append(wake)
                    group.addTask {
                        try? await Task.sleep(until: wake, clock: .continuous)
                        return .tick
                    }
                }
                guard let completion = await group.next() else { break }
                guard case .attempt(let outcome) = completion else {
                    if let first = sleepers.indices.min(by: { sleepers[$0] < sleepers[$1] }) { sleepers.remove(at: first) }
                    continue
                }

                // A request finished.
                inFlight -= 1
                control.releaseSlot()
                pool.release(outcome.slot, answered: outcome.result.answered)
                let index = outcome.index
                let beat = beats[index]
                let key = pool.slots[outcome.slot].key
                switch outcome.result {
                case .done(let record):
                    pool.succeeded(outcome.slot)
                    done += 1
                    files[index] = record.file
                    spend.imagesReceived += 1
                    spend.usage.add(record.usage)
                    counters[index].usage.add(record.usage)
                    event(index, .done, attempt: record.attempts, key: key.label, path: record.file, bytes: record.bytes,
                          sha: record.sha256)
                    for dependent in (dependents.removeValue(forKey: index) ?? []).reversed() {
                        ready.prepend(dependent)
                        event(dependent, .queued, path: beats[dependent].relativeStem + ".png")
                    }
                case .storage(let message):
                    styleError = "style \(style.name): \(message)"
                    ready.prepend(index)
                case .deferred:
                    // Never sent: undo the dispatch's count; the next loop adopts the cool-down.
                    counters[index].requests -= 1
                    spend.requests -= 1
                    ready.prepend(index)
                    event(index, .queued, path: beat.relativeStem + ".png")
                case .failure(let failure):
                    counters[index].lastError = failure.description
                    let attempt = counters[index].requests
                    switch failure {
                    case .rateLimited(let retryAfter, let perDay, let message):
                        spend.rateLimited += 1
                        counters[index].rateLimited += 1
                        if perDay {
                            let reason = "daily quota exhausted: \(message)"
                            control.markDailyQuotaSpent(key.project, reason: "daily quota exhausted")
                            for exhausted in pool.exhaust(outcome.slot, reason: "daily quota exhausted") {
                                keyEvent(exhausted, .exhausted, reason: reason)
                            }
                        } else {
                            let coolStart = clock.now
                            let (delay, cooled) = pool.cool(outcome.slot, retryAfter: retryAfter, policy: style.retry, now: coolStart)
                            control.coolProject(key.project, until: coolStart + delay)
                            for cooledKey in cooled {
                                keyEvent(cooledKey, .cooling, duration: delay, reason: "rate limited: \(message)")
                            }
                        }
                        if counters[index].rateLimited >= style.retry.maxRateLimitedAttempts {
                            await failBeat(index, reason: "beat \(beat.beat): rate limited \(counters[index].rateLimited) times: \(message)")
                        } else {
                            ready.prepend(index)
                            event(index, .retrying, attempt: attempt, key: key.label, error: failure.description, retryIn: .zero)
                        }
                    case .keyRejected(_, let message):
                        if pool.disable(outcome.slot, reason: message) {
                            keyEvent(key, .disabled, reason: failure.description)
                            control.emit(.message(style: style.name, text: "style \(style.name): key \(key.label) disabled: \(message)"))
                        }
                        ready.prepend(index)
                        event(index, .retrying, attempt: attempt, key: key.label, error: failure.description, retryIn: .zero)
                    case .configuration:
                        styleError = "style \(style.name): \(failure.description)"
                        ready.prepend(index)
                    case .transient(_, _, let outcomeUnknown):
                        let exhausted: Bool
                        if outcomeUnknown {
                            counters[index].unknownOutcomes += 1
                            spend.unknownOutcomeAttempts += 1
                            exhausted = counters[index].unknownOutcomes >= style.retry.maxUnknownOutcomeAttempts
                        } else {
                            counters[index].transientFailures += 1
                            exhausted = counters[index].transientFailures >= style.retry.maxAttempts
                        }
                        if exhausted {
                            await failBeat(index, reason: "beat \(beat.beat): gave up after \(attempt) attempts: \(failure.description)")
                        } else {
                            let delay = style.retry.backoff(attempt: counters[index].transientFailures + counters[index].unknownOutcomes)
                            delayed.append((index, clock.now + delay))
                            event(index, .retrying, attempt: attempt, key: key.label, error: failure.description, retryIn: delay)
                        }
                    case .blocked:
                        counters[index].wasted += 1
                        spend.wastedAttempts += 1
                        await failBeat(index, reason: "beat \(beat.beat): \(failure.description)")
                    case .noImage:
                        counters[index].wasted += 1
                        counters[index].noImage += 1
                        spend.wastedAttempts += 1
                        if counters[index].noImage >= 2 {
                            await failBeat(index, reason: "beat \(beat.beat): \(failure.description)")
                        } else {
                            ready.prepend(index)
                            event(index, .retrying, attempt: attempt, key: key.label, error: failure.description, retryIn: .zero)
                        }
                    case .badRequest:
                        await failBeat(index, reason: "beat \(beat.beat): \(failure.description)")
                    case .cancelled:
                        if Task.isCancelled {
                            cancelled = true
                        } else {
                            counters[index].transientFailures += 1
                            if counters[index].transientFailures >= style.retry.maxAttempts {
                                await failBeat(index, reason: "beat \(beat.beat): \(failure.description)")
                            } else {
                                ready.prepend(index)
                            }
                        }
                    }
                }
                if styleError == nil && !pool.hasUsableKey {
                    styleError = "style \(style.name): \(pool.exhaustedSummary())"
                }
                publish()
            }
            group.cancelAll()
        }

        var state: JobOutcome
        if cancelled {
            state = .cancelled
            control.emit(.message(style: style.name, text: "style \(style.name): cancelled; \(done + skipped) of \(total) done"))
        } else if let styleError {
            // Everything not finished fails with the style's reason (not recorded: a rerun retries it).
            let unfinished = Array(ready) + delayed.map(\.index) + dependents.values.flatMap { $0 }
            dependents = [:]
            for index in unfinished.sorted() {
                failed += 1
                event(index, .failed, attempt: counters[index].requests, error: styleError)
            }
            control.emit(.message(style: style.name, text: styleError))
            logger.error("style failed", metadata: ["style": "\(style.name)", "error": "\(styleError)"])
            state = .failed
        } else {
            state = failed == 0 ? .completed : .completedWithErrors
        }
        publish()
        do { try await store.close() } catch {
            logger.error("cannot compact progress", metadata: ["style": "\(style.name)", "error": "\(error)"])
        }
        return summary(state, done: done, failed: failed, skipped: skipped, error: styleError)
    }

    // MARK: - Plan

    enum Decision: Sendable {
        case skip(BeatRecord)
        case generate
    }

    struct Plan: Sendable {
        var beats: [PlannedBeat]
        var decisions: [Decision]
        var styleReference: ReferenceImage?
    }

    /// The style reference: `style_reference_<style>.png` if present, else `style_reference.png`.
    /// Anything but a regular file of at most `limit` bytes in their place is refused.
    static func loadStyleReference(project: ProjectDirectory, style: String, limit: Int) throws(EngineError)
        -> ReferenceImage?
    {
        for name in ["style_reference_\(style).png", "style_reference.png"] {
            if let data = try project.readFile(name, limit: limit, limitName: "maxReferenceImageBytes"), !data.isEmpty {
                return ReferenceImage(mimeType: sniffMimeType(data) ?? "image/png", data: data)
            }
        }
        return nil
    }

    /// Size and SHA-256 of an image in the project, nil when it is missing or cannot be read;
    /// anything but a regular file in its place is refused.
    func fingerprintOfImage(_ relative: String) throws(EngineError) -> (bytes: Int, sha256: String)? {
        do {
            guard let data = try project.readFile(relative, limit: configuration.maxReferenceImageBytes,
                                                  limitName: "maxReferenceImageBytes") else { return nil }
            return (data.count, DurableFiles.sha256Hex(data))
        } catch {
            if error.code == .io || error.code == .inputTooLarge { return nil }
            throw error
        }
    }

    static func sniffMimeType(_ data: Data) -> String? {
        if data.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return "image/png" }
        if data.starts(with: [0xFF, 0xD8, 0xFF]) { return "image/jpeg" }
        return nil
    }

    /// Decides which beats are done already. Blocking: runs on the I/O queue.
    func makePlan(store: ProgressStore) throws -> Plan {
        let reference = style.attachStyleReference
            ? try Self.loadStyleReference(project: project, style: style.name, limit: configuration.maxReferenceImageBytes)
            : nil
        let referenceSHA = reference.map { DurableFiles.sha256Hex($0.data) }
        var beats: [PlannedBeat] = []
        var decisions: [Decision] = []
        var first = true
        for shot in storyboard.shots {
            try Self.removeStaleTemporaryFiles(in: "generated_images/\(style.name)/Shot_\(shot.id)", of: project)
            var previous: Int?
            for beat in shot.beats {
                let attachReference = reference != nil && (first || beat.transition == .hardCut)
                first = false
                let prompt = style.render(prompt: beat.prompt)
                let predecessor = style.continuity && beat.transition == .continue ? previous : nil
                let planned = PlannedBeat(
                    index: beats.count, shot: shot.id, beat: beat.id, prompt: prompt,
                    relativeStem: "generated_images/\(style.name)/Shot_\(shot.id)/Beat_\(beat.id)",
                    attachStyleReference: attachReference, predecessor: predecessor,
                    predecessorID: predecessor.map { beats[$0].beat },
                    baseFingerprint: PlannedBeat.baseFingerprint(
                        style: style, prompt: prompt, styleReferenceSHA: attachReference ? referenceSHA : nil))
                var decision = Decision.generate
                if !force, let record = store.record(shot: shot.id, beat: beat.id), record.state == .done,
                    let file = record.file, let sha = record.sha256, let bytes = record.bytes
                {
                    var predecessorSHA: String?
                    var predecessorKnown = true
                    if let predecessor {
                        if case .skip(let previousRecord) = decisions[predecessor] {
                            predecessorSHA = previousRecord.sha256
                        } else {
                            predecessorKnown = false
                        }
                    }
                    if predecessorKnown, record.fingerprint == planned.fingerprint(predecessorSHA: predecessorSHA),
                        let actual = try fingerprintOfImage(file),
                        actual.bytes == bytes, actual.sha256 == sha
                    {
                        decision = .skip(record)
                    }
                }
                beats.append(planned)
                decisions.append(decision)
                previous = planned.index
            }
        }
        return Plan(beats: beats, decisions: decisions, styleReference: reference)
    }

    /// Removes temporary files a killed run left behind (".Beat_x.png.tmp-…"); never a final path,
    /// and only regular files directly in `folder` (a link is never followed).
    static func removeStaleTemporaryFiles(in folder: String, of project: ProjectDirectory) throws {
        try project.removeFiles(in: folder) { name in name.hasPrefix(".") && name.contains(".tmp-") }
    }

    // MARK: - One request

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
            references.append(ReferenceImage(mimeType: Self.sniffMimeType(data) ?? "image/png", data: data))
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
        guard let mime = Self.sniffMimeType(image.data) else {
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

extension TokenUsage {
    mutating func add(_ other: TokenUsage) {
        promptTokens += other.promptTokens
        outputTokens += other.outputTokens
        totalTokens += other.totalTokens
    }
}
