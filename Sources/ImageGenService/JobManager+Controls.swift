import Foundation
import ImageGenEngine
public import ImageGenRPC
public import ImageGenWire

/// The calls for a job or a project: where a job runs (here, or forwarded to its lease's server),
/// its controls (cancel, pause, resume), the job list, and status from memory or, when no job
/// runs, from the project's progress files.
extension JobManager {

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
}
