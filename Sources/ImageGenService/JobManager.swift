import Foundation
public import ImageGenEngine
public import ImageGenRPC
public import ImageGenWire
public import Logging
public import ServiceLifecycle
import Synchronization

/// Owns the service's jobs: starts them (one per project at a time), runs them as children of its
/// own `run()`, remembers the running ones across restarts, and answers status from memory or,
/// when no job runs, from a project's progress files.
///
/// A job's seqs increase across restarts: the state file reserves seqs for each running job
/// (``ServiceConfiguration/seqReservation`` at a time, extended durably when half is used), a run
/// issues only reserved seqs, and a resumed run starts after the reservation of the run before.
public final class JobManager: Sendable {
    struct State {
        var jobs: [String: GenerationJob] = [:]
        var order: [String] = []
        var byRequestID: [String: String] = [:]
        var running: [ProjectDirectory.Identity: String] = [:]  // project folder (device, inode) → job id
        /// Each admitted job's open project folder and, once taken, its cross-process lock.
        var holds: [String: ProjectHold] = [:]
        /// False until the jobs of the previous run are resumed; calls wait for it.
        var ready = false
        /// Calls in ``waitUntilReady()``, by waiter id (a cancelled call removes its own).
        var readyWaiters = WaiterList()
        /// Jobs of the previous run not resumed yet: kept in the state file meanwhile.
        var pendingResume: [JobStateFile.Entry] = []
        /// Jobs admitted whose lease is not claimed yet: the heartbeat leaves them alone (a renewal
        /// that does not find their lease yet must not stop them).
        var claiming: Set<String> = []
        /// Jobs registered but not admitted yet (their lock, lease and progress being checked; a
        /// take-over's may be withdrawn): calls for them go by the lease meanwhile.
        var admitting: Set<String> = []
        /// When the job leases were last renewed (see ``keepLeases(_:)``).
        var leasesConfirmedAt: ContinuousClock.Instant?
        /// Where clients reach this server (HOST:PORT), once it listens; see ``advertise(address:)``.
        var address: String?
        /// The heartbeat, waiting for ``address`` before its first beat.
        var addressWaiters = WaiterList()
        /// Whether this process holds its server id (with ``ServiceConfiguration/leases``).
        var serverIDHold = ServerIDHold.unconfirmed
    }

    /// A job's open project folder and the lock that makes it the project's only job.
    struct ProjectHold: Sendable {
        var directory: ProjectDirectory
        var lock: ProjectLock?
    }

    let configuration: ServiceConfiguration
    let engine: ImageEngine
    let logger: Logger
    let state = Mutex(State())
    let stateFile: JobStateFile
    /// Blocking reads of project files (storyboard.json), kept off the cooperative pool.
    let files = BlockingIO(label: "imagegen.service.files")
    private let launches: AsyncStream<GenerationJob>
    let launchContinuation: AsyncStream<GenerationJob>.Continuation
    /// Forwards calls for jobs other servers run (with ``ServiceConfiguration/leases``).
    let forwarder: JobForwarder
    /// This process among those that ever ran under ``ServiceConfiguration/serverID``: it holds
    /// the id in the coordination database (see ``holdServerID(_:)``).
    let instance = UUID().uuidString

    public init(configuration: ServiceConfiguration, engine: ImageEngine, logger: Logger) {
        self.configuration = configuration
        self.engine = engine
        self.logger = logger
        self.stateFile = JobStateFile(directory: configuration.stateDirectory)
        (launches, launchContinuation) = AsyncStream.makeStream(of: GenerationJob.self)
        forwarder = JobForwarder(
            token: configuration.forwardingToken, serverID: configuration.serverID, leaseDuration: configuration.leaseDuration)
    }

    /// Where clients reach this server (HOST:PORT): recorded with its leases, so that the other
    /// servers can forward calls for its jobs here. Told once the server listens.
    public func advertise(address: String) {
        state.withLock { state in
            state.address = address
            return state.addressWaiters.takeAll()
        }.resume()
    }

    /// The style names the engine is configured with.
    public var configuredStyles: [String] { engine.configuration.styles.map(\.name) }

    /// Runs every job as a child task until cancelled or a graceful shutdown; first resumes the
    /// jobs that were running. Jobs stopped by a shutdown are resumed by the next server.
    public func run() async throws {
        try FileManager.default.createDirectory(at: configuration.stateDirectory, withIntermediateDirectories: true)
        try await cancelWhenGracefulShutdown {
            if let leases = self.configuration.leases { try await self.holdServerID(leases) }
            if self.configuration.resumeJobsOnStart {
                await self.resumePersistedJobs()
            }
            self.becomeReady()
            try await withThrowingTaskGroup(of: Void.self) { group in
                // The heartbeat ends only when the jobs do (the launches end only with the
                // service), or by throwing (the id is another server's): then the jobs stop.
                if let leases = self.configuration.leases {
                    group.addTask { try await self.keepLeases(leases) }
                }
                group.addTask { await self.executeLaunches() }
                defer { group.cancelAll() }
                try await group.next()
            }
        }
        if let leases = configuration.leases { await releaseServerID(leases) }
    }

    /// Runs every job launched as a child task, until the launches end (with the service) or
    /// this task is cancelled; returns once every job has.
    private func executeLaunches() async {
        await withDiscardingTaskGroup { group in
            for await job in launches {
                group.addTask { await self.execute(job) }
            }
        }
    }

    // MARK: Starting

    /// Marks the manager ready (the previous run's jobs are resumed) and releases waiting calls.
    private func becomeReady() {
        state.withLock { state in
            state.ready = true
            return state.readyWaiters.takeAll()
        }.resume()
    }

    /// Returns once the jobs of the previous run are resumed, so that a call made during start-up
    /// sees them (and does not start a duplicate), or at once when the calling task is cancelled
    /// (its call ended: cancelled by the client or past its deadline). True when ready.
    @discardableResult
    func waitUntilReady() async -> Bool {
        await state.wait(on: \.readyWaiters) { $0.ready }
        return state.withLock { $0.ready }
    }

    /// ``waitUntilReady()``, throwing CANCELLED when the call ends before the server is ready.
    func requireReady() async throws(RPCError) {
        guard await waitUntilReady() else {
            throw RPCError(.cancelled, "the call ended while the server was still resuming the jobs of its previous run")
        }
    }

    // MARK: Running

    private func execute(_ job: GenerationJob) async {
        let imageJob: ImageJob
        do throws(EngineError) {
            let options: JobOptions
            do { options = try WireMapping.jobOptions(job.request.options, styles: job.styles) } catch {
                throw EngineError(.invalidOptions, error.message)
            }
            let directory = state.withLock({ $0.holds[job.id]?.directory })
            guard let directory else { throw EngineError(.io, "job \(job.id) has no open project folder") }
            imageJob = try engine.makeJob(storyboard: job.storyboard, directory: directory, options: options)
        } catch {
            await publish(.finished(JobFinished(state: .failed, message: WireMapping.rpcError(error).message)), to: job)
            await finish(job, shuttingDown: false)
            return
        }
        job.started(imageJob)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await event in imageJob.events {
                    self.configuration.engineEventObserver?(job.id, event)
                    if let kind = WireMapping.kind(event) { await self.publish(kind, to: job) }
                }
            }
            group.addTask {
                await withTaskGroup(of: Void.self) { race in
                    race.addTask { _ = await imageJob.run() }
                    race.addTask { await job.waitForStop() }
                    // Whichever ends first ends the other: a stop cancels the engine, which leaves
                    // its progress consistent and emits its final events.
                    await race.next()
                    race.cancelAll()
                }
            }
        }
        await finish(job, shuttingDown: Task.isCancelled && job.stopReason == nil)
    }

    private func finish(_ job: GenerationJob, shuttingDown: Bool) async {
        job.finishEvents()
        state.withLock { state in
            // The engine is done with the project: release its folder and lock (unless the job
            // was admitted again under its id meanwhile: those are the new run's).
            if state.jobs[job.id] === job {
                if let identity = state.running.first(where: { $0.value == job.id })?.key { state.running[identity] = nil }
                state.holds[job.id] = nil
            }
            // Keep a bounded history of finished jobs.
            let finished = state.order.filter { state.jobs[$0]?.isFinished == true }
            for id in finished.dropLast(configuration.finishedJobsKept) {
                state.jobs[id] = nil
                state.order.removeAll { $0 == id }
                state.byRequestID = state.byRequestID.filter { $0.value != id }
            }
        }
        // A job stopped by a shutdown stays in the state file, to be resumed by the next server.
        if !shuttingDown { await persistRunningJobs() }
        if job.stopReason != .leaseLost { await releaseLease(of: job, finished: !shuttingDown) }
        logger.info("job finished", metadata: ["job": "\(job.id)", "state": "\(job.status(includeBeats: false).state)"])
    }

    // MARK: Controls and status

    /// Job `id` of this server; FAILED_PRECONDITION naming the server that runs it instead, if
    /// another does; NOT_FOUND otherwise.
    func job(_ id: String) async throws(RPCError) -> GenerationJob {
        switch try await locate(id, mayForward: false) {
        case .here(let job): return job
        case .elsewhere(let owner): throw RPCError(.failedPrecondition, "job \(id) runs on server \(owner.serverID)")
        }
    }

    /// Where job `id` runs: here, or (`mayForward`, with leases) on the server whose address its
    /// lease names, to forward the call to. A job another server runs that cannot be forwarded to
    /// is FAILED_PRECONDITION naming that server; a job no server knows, NOT_FOUND. A run here
    /// stopping for a lost lease is watched here to its end (`watching`: the after_seq of a
    /// WatchJob, within that run's events); any other call for it goes where its lease is now:
    /// UNAVAILABLE until a server holds it. A job whose lease this server holds but that has no
    /// run here yet (a take-over between its claim and its start, or one given back to be tried
    /// again) is UNAVAILABLE too.
    func locate(_ id: String, mayForward: Bool, watching: UInt64? = nil) async throws(RPCError) -> JobLocation {
        try await requireReady()
        guard !id.isEmpty else { throw RPCError(.invalidArgument, "job_id is empty") }
        let local = state.withLock { state in state.admitting.contains(id) ? nil : state.jobs[id] }
        if let local, local.stopReason != .leaseLost { return .here(local) }
        // A run stopping for a lost lease keeps the watchers of its own events to its end.
        if let local, let afterSeq = watching, local.isActive, afterSeq <= local.events.lastSeq { return .here(local) }
        if let lease = await lease(ofJob: id) {
            if lease.owner != configuration.serverID {
                if mayForward, let address = lease.ownerAddress { return .elsewhere(JobOwner(serverID: lease.owner, address: address)) }
                throw elsewhereError(id, lease)
            }
            if !lease.finished { throw startingHereError(id) }
        }
        // Its run here stopped when its lease was lost; no server has taken it over yet.
        if local != nil { throw Self.leaseLostError(id) }
        throw RPCError(.notFound, "no job \"\(id)\" on this server (it may have finished long ago or never existed)")
    }

    /// Job `id`'s lease is this server's, with no run here yet (a take-over between its claim and
    /// its start, or given back to be tried again): UNAVAILABLE, for the client to ask again shortly.
    func startingHereError(_ id: String) -> RPCError {
        RPCError(
            .unavailable,
            "job \(id) is being taken over (its lease is server \(configuration.serverID)'s, its run not started yet): ask again shortly, after the last seq seen")
    }

    /// Job `id`'s run here stopped when its lease was lost: UNAVAILABLE, for the client to ask
    /// again shortly (the server that takes the lease goes on with the job, under the same id).
    static func leaseLostError(_ id: String) -> RPCError {
        RPCError(
            .unavailable,
            "job \(id): its run on this server stopped when its lease was lost; the server that takes the lease over goes on with it: watch it again shortly, after the last seq seen")
    }

    /// How long ``cancel(_:deadline:)`` waits for a job to wind down before answering anyway.
    static let cancelWindDown = Duration.seconds(10)

    /// Stops a job; waits (woken by its end, not polling) for it to wind down so the answer shows
    /// its final state, but no longer than ``cancelWindDown`` or `deadline`, and not at all once
    /// the calling task is cancelled (the call's client went away or its deadline passed).
    public func cancel(_ id: String, deadline: ContinuousClock.Instant? = nil) async throws(RPCError) -> JobStatus {
        let job = try await job(id)
        if job.isActive {
            job.requestStop(.cancelledByClient)
            var limit = Self.cancelWindDown
            if let deadline { limit = min(limit, max(.zero, deadline - ContinuousClock.now)) }
            _ = await job.waitUntilFinished(within: limit)
        }
        return job.status(includeBeats: false)
    }

    public func pause(_ id: String) async throws(RPCError) -> JobStatus {
        let job = try await job(id)
        try job.pause()
        await announcePause(of: job)
        return job.status(includeBeats: false)
    }

    public func resume(_ id: String) async throws(RPCError) -> JobStatus {
        let job = try await job(id)
        try job.resume()
        await announcePause(of: job)
        return job.status(includeBeats: false)
    }

    public func list() async -> [JobStatus] {
        await waitUntilReady()
        // A job being admitted is listed once it is (as calls for it are answered).
        return state.withLock { state in state.order.filter { !state.admitting.contains($0) }.compactMap { state.jobs[$0] } }
            .map { $0.status(includeBeats: false) }
    }

    /// A job's status by id, or a project's: the running job's, else read from the progress files.
    public func status(_ request: GetStatusRequest) async throws(RPCError) -> JobStatus {
        var status = try await plainStatus(request)
        status.coordinationProblem = coordinationProblem() ?? ""
        return status
    }

    private func plainStatus(_ request: GetStatusRequest) async throws(RPCError) -> JobStatus {
        switch request.target {
        case .jobID(let id)?:
            return try await job(id).status(includeBeats: request.includeBeats)
        case .projectDir(let dir)?:
            try await requireReady()
            let directory = try await openProject(dir)
            let latest = state.withLock { state in
                state.order.reversed().compactMap { state.jobs[$0] }.first { $0.project.path == directory.url.path }
            }
            if let latest, latest.isActive { return latest.status(includeBeats: request.includeBeats) }
            return try await statusFromDisk(directory)
        case nil:
            throw RPCError(.invalidArgument, "GetStatusRequest names neither job_id nor project_dir")
        }
    }

    private func statusFromDisk(_ directory: ProjectDirectory) async throws(RPCError) -> JobStatus {
        let project = directory.url
        let storyboard = (try? await projectStoryboard(directory)) ?? nil
        let styles = configuredStyles
        let status: ProjectStatus
        do {
            status = try await ProjectStatus.read(directory: directory, styles: styles, storyboard: storyboard)
        } catch {
            throw WireMapping.rpcError(error)
        }
        let progress = status.styles.map { style in
            StyleProgress(
                style: style.name, total: UInt32(clamping: style.total), completed: UInt32(clamping: style.done),
                failed: UInt32(clamping: style.failed),
                percent: style.total == 0 ? 0 : Double(style.done) * 100 / Double(style.total),
                inBatch: UInt32(clamping: style.inBatch))
        }
        let cost = status.styles.reduce(0) { $0 + $1.estimatedCostUSD }
        let state: JobState
        if status.isComplete {
            state = .completed
        } else if status.styles.allSatisfy({ $0.pending == 0 }) && status.styles.contains(where: { $0.failed > 0 }) {
            state = .completedWithErrors
        } else {
            state = .unspecified
        }
        return JobStatus(
            projectDir: Self.relativePath(project, root: configuration.projectsRoot.url), state: state, styles: progress,
            message: "no job running; read from the progress files" + (storyboard == nil ? " (no storyboard.json: counting recorded beats)" : ""),
            usage: Usage(estimatedCostUSD: cost))
    }

    /// The project's `storyboard.json`, nil when there is none; read off the cooperative pool.
    func projectStoryboard(_ directory: ProjectDirectory) async throws(EngineError) -> ValidatedStoryboard? {
        let limit = engine.configuration.maxStoryboardBytes
        let limits = configuration.storyboardLimits
        let result = await files.runResult { () throws(EngineError) -> ValidatedStoryboard? in
            try ValidatedStoryboard.load(from: directory, limit: limit, limits: limits)
        }
        return try result.get()
    }

    // MARK: Events

    /// Publishes an event of `job`; reserves more seqs in the state file first when the run has
    /// issued all it reserved, and after it when the reservation runs low.
    /// Announces the job's pause state if it changed since the last announcement (see
    /// ``GenerationJob/announcePause()``), reserving seqs first when the job has none left.
    func announcePause(of job: GenerationJob) async {
        while true {
            switch job.announcePause() {
            case nil, .published?:
                return
            case .publishedRunningLow?:
                await persistRunningJobs(reservingFor: job)
                return
            case .needsReservation?:
                await persistRunningJobs(reservingFor: job)
            }
        }
    }

    func publish(_ kind: ProgressEvent.Kind, to job: GenerationJob) async {
        while true {
            switch job.publish(kind) {
            case .published:
                return
            case .publishedRunningLow:
                await persistRunningJobs(reservingFor: job)
                return
            case .needsReservation:
                await persistRunningJobs(reservingFor: job)
            }
        }
    }

    // MARK: Helpers

    static func newJobID() -> String {
        var generator = SystemRandomNumberGenerator()
        return "job-" + String(format: "%016llx", generator.next() as UInt64)
    }

    static func relativePath(_ project: URL, root: URL) -> String {
        let path = project.path
        let prefix = root.path.hasSuffix("/") ? root.path : root.path + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }

    /// The same storyboard, styles and force make the same fingerprint.
    static func fingerprint(_ request: StartGenerationRequest) -> String {
        var identity = StartGenerationRequest(projectDir: request.projectDir, storyboard: request.storyboard, styles: request.styles)
        identity.options.force = request.options.force
        return Data(identity.serializedBytes()).base64EncodedString()
    }
}

extension JobManager: Service {}
