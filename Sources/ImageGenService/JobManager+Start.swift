import Foundation
import ImageGenEngine
import ImageGenRPC
import ImageGenWire
import Logging

/// Starting a job: validate the request (normalised once), admit the job (its project's only
/// one, locked, its progress read), announce it (state file, accepted event, counters).
extension JobManager {
    /// Starts a job (`id` and `firstSeq` given when resuming one after a restart), or finds the
    /// job it should attach to: validates the request, admits the job, announces it.
    func startJob(
        _ request: StartGenerationRequest, id: String?, firstSeq: UInt64 = 1, leased: Bool = false
    ) async throws(RPCError) -> (GenerationJob, attached: Bool) {
        // A client's retry of a start attaches to the job it started (not a take-over, which
        // starts its own run; not a run stopped for a lost lease: the job goes on elsewhere).
        if !leased, !request.requestID.isEmpty,
            let existing = state.withLock({ state in state.byRequestID[request.requestID].flatMap { state.jobs[$0] } }),
            existing.stopReason != .leaseLost
        {
            return (existing, true)
        }
        let start = try await validate(request)
        let job = GenerationJob(
            id: id ?? Self.newJobID(), projectDir: start.request.projectDir, project: start.directory.url,
            request: start.request, storyboard: start.storyboard, styles: start.request.styles,
            fingerprint: Self.fingerprint(start.request), firstSeq: firstSeq,
            seqReservation: configuration.seqReservation, retention: configuration.eventRetention,
            watcherBuffer: configuration.watcherBuffer)
        switch try await admit(job, start, requestID: request.requestID, leased: leased) {
        case .attach(let running):
            return (running, true)
        case .admitted(let done):
            await announce(job, start, done: done)
            return (job, false)
        }
    }

    /// A start request checked and normalised once: its project folder open, its storyboard
    /// validated (from the request or the project's storyboard.json), its styles resolved. The
    /// normalised request (storyboard inline, project relative to the root, styles listed) is what
    /// the job's fingerprint and the state file hold.
    struct ValidatedStart: Sendable {
        var directory: ProjectDirectory
        var storyboard: ValidatedStoryboard
        var request: StartGenerationRequest
    }

    /// Checks a start request and normalises it (see ``ValidatedStart``).
    private func validate(_ request: StartGenerationRequest) async throws(RPCError) -> ValidatedStart {
        _ = try WireMapping.jobOptions(request.options, styles: nil)
        let directory = try await openProject(request.projectDir)
        let storyboard: ValidatedStoryboard
        if let wire = request.storyboard {
            storyboard = try WireMapping.storyboard(wire, limits: configuration.storyboardLimits)
        } else {
            let read: ValidatedStoryboard?
            do {
                read = try await projectStoryboard(directory)
            } catch {
                // A storyboard that breaks the rules is a bad argument; one that cannot be read is a bad project.
                let code: RPCError.Code = error.code == .invalidStoryboard ? .invalidArgument : .failedPrecondition
                throw RPCError(code, "\(request.projectDir)/storyboard.json: \(error.description)")
            }
            guard let read else {
                throw RPCError(.failedPrecondition, "no storyboard in the request and no storyboard.json in project \"\(request.projectDir)\"")
            }
            storyboard = read
        }
        let known = configuredStyles
        let unknown = request.styles.filter { !known.contains($0) }
        guard unknown.isEmpty else {
            var names = ProblemList()
            for name in unknown { names.append(ClientText.loggable(name)) }
            throw RPCError(.invalidArgument, "unknown style\(unknown.count == 1 ? "" : "s") \(names.lines.joined(separator: ", ")) (configured: \(known.joined(separator: ", ")))")
        }
        var styles: [String] = []
        for style in request.styles.isEmpty ? known : request.styles where !styles.contains(style) { styles.append(style) }

        var normalized = request
        normalized.storyboard = WireMapping.storyboard(storyboard)
        normalized.projectDir = Self.relativePath(directory.url, root: configuration.projectsRoot.url)
        normalized.styles = styles
        return ValidatedStart(directory: directory, storyboard: storyboard, request: normalized)
    }

    /// How a validated start was admitted.
    private enum Admission {
        /// The same work runs already: the caller attaches to it.
        case attach(GenerationJob)
        /// The job is the project's: its lock is taken and `done` counts each style's beats done.
        case admitted(done: [String: Int])
    }

    /// Makes `job` its project's job, unless one runs there already (the same work: attach; other
    /// work: FAILED_PRECONDITION); then takes the project's lock, claims its lease (unless
    /// `leased`: a resumed or taken-over job claimed it first), and reads what is done. Progress
    /// that cannot be read refuses the job (DATA_LOSS) rather than counting as none.
    private func admit(
        _ job: GenerationJob, _ start: ValidatedStart, requestID: String, leased: Bool
    ) async throws(RPCError) -> Admission {
        enum Registration { case new, attach(GenerationJob), conflict(GenerationJob), stopping(GenerationJob) }
        let directory = start.directory
        let registration = state.withLock { state -> Registration in
            if let runningID = state.running[directory.identity], let running = state.jobs[runningID], running.isActive {
                // A take-over does not attach to this server's own run that is stopping for the
                // same lease it lost: that run's lease would go unrenewed.
                if leased && running.stopReason == .leaseLost { return .stopping(running) }
                return running.fingerprint == job.fingerprint ? .attach(running) : .conflict(running)
            }
            // The same id's earlier run here has ended but not released its project yet.
            if let earlier = state.jobs[job.id], state.holds[job.id] != nil { return .stopping(earlier) }
            state.jobs[job.id] = job
            state.order.removeAll { $0 == job.id }  // a job re-admitted under its id (taken back over)
            state.order.append(job.id)
            state.running[directory.identity] = job.id
            state.holds[job.id] = ProjectHold(directory: directory, lock: nil)
            if !leased, configuration.leases != nil { state.claiming.insert(job.id) }
            if !requestID.isEmpty { state.byRequestID[requestID] = job.id }
            state.admitting.insert(job.id)
            return .new
        }
        switch registration {
        case .attach(let running):
            return .attach(running)
        case .conflict(let running):
            throw RPCError(
                .failedPrecondition,
                "project \"\(job.projectDir)\" already has job \(running.id) running a different storyboard or styles; cancel it or wait for it")
        case .stopping(let running):
            throw RPCError(
                .unavailable,
                "project \"\(job.projectDir)\": job \(running.id)'s run on this server is still stopping after its lease was lost; it is taken over once that run has stopped")
        case .new:
            break
        }
        do {
            try await lockProject(directory, for: job)
        } catch {
            withdraw(job, directory: directory, requestID: requestID)
            throw RPCError(WireMapping.rpcError(error).code, "project \"\(job.projectDir)\": \(error.description)", cause: error)
        }
        if !leased {
            do { try await claimLease(for: job) } catch {
                withdraw(job, directory: directory, requestID: requestID)
                throw error
            }
            _ = state.withLock { $0.claiming.remove(job.id) }
        }
        do {
            let engine = self.engine
            try await files.runResult { [styles = job.styles, storyboard = start.storyboard] () throws(EngineError) in
                try engine.checkProject(directory, storyboard: storyboard, styles: styles)
            }.get()
            var done: [String: Int] = [:]
            if !start.request.options.force {
                let status = try await ProjectStatus.read(directory: directory, styles: job.styles, storyboard: start.storyboard)
                done = Dictionary(uniqueKeysWithValues: status.styles.map { ($0.name, $0.done) })
            }
            _ = state.withLock { $0.admitting.remove(job.id) }
            return .admitted(done: done)
        } catch {
            withdraw(job, directory: directory, requestID: requestID)
            if !leased { await releaseLease(of: job, finished: true) }
            throw RPCError(WireMapping.rpcError(error).code, "project \"\(job.projectDir)\": \(error.description)")
        }
    }

    /// Saves the admitted job in the state file (with the seqs its run may issue, before its
    /// first event is numbered), publishes its accepted event and counters, and hands it to `run()`.
    private func announce(_ job: GenerationJob, _ start: ValidatedStart, done: [String: Int]) async {
        let total = UInt32(clamping: start.storyboard.beatCount)
        let progress = job.styles.map { style in
            let completed = UInt32(clamping: done[style] ?? 0)
            return StyleProgress(
                style: style, total: total, completed: completed, percent: total == 0 ? 100 : Double(completed) * 100 / Double(total))
        }
        await persistRunningJobs()
        await publish(.accepted(JobAccepted(styles: progress, resumed: UInt32(clamping: done.values.reduce(0, +)))), to: job)
        for entry in progress { await publish(.style(entry), to: job) }
        logger.info(
            "job accepted",
            metadata: ["job": "\(job.id)", "project": "\(ClientText.loggable(job.projectDir))", "beats": "\(total)", "styles": "\(job.styles.joined(separator: ","))"])
        launchContinuation.yield(job)
    }

    /// Opens a client's project folder below the projects root, off the cooperative pool.
    func openProject(_ projectDir: String) async throws(RPCError) -> ProjectDirectory {
        let root = configuration.projectsRoot
        let result = await files.runResult { () throws(RPCError) -> ProjectDirectory in try root.open(projectDir) }
        return try result.get()
    }

    /// Takes the project's cross-process lock for `job`; held until the job finishes.
    private func lockProject(_ directory: ProjectDirectory, for job: GenerationJob) async throws(EngineError) {
        let id = job.id
        let server = configuration.leases == nil ? "" : "server \(configuration.serverID), "
        let result = await files.runResult { () throws(EngineError) -> ProjectLock in
            // The host name may take a resolver call: off the cooperative pool, like the lock.
            try ProjectLock.acquire(directory, holder: "\(server)pid \(getpid()) on host \(ProcessInfo.processInfo.hostName), job \(id)")
        }
        let lock = try result.get()
        state.withLock { state in state.holds[job.id]?.lock = lock }
    }

    /// Undoes the admission of a job that was refused after it (lock or progress).
    private func withdraw(_ job: GenerationJob, directory: ProjectDirectory, requestID: String) {
        state.withLock { state in
            state.jobs[job.id] = nil
            state.order.removeAll { $0 == job.id }
            if state.running[directory.identity] == job.id { state.running[directory.identity] = nil }
            state.holds[job.id] = nil
            state.claiming.remove(job.id)
            state.admitting.remove(job.id)
            if !requestID.isEmpty, state.byRequestID[requestID] == job.id { state.byRequestID[requestID] = nil }
        }
        // A caller that attached meanwhile stops waiting for an accepted event that never comes.
        job.finishEvents()
    }
}
