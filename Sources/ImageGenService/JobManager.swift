import Foundation
public import ImageGenEngine
import ImageGenRPC
import ImageGenWire
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
