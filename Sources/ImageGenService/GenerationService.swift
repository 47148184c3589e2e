public import ImageGenRPC
import ImageGenWire

/// `imagegen.v1.ImageGeneration` over the RPC layer: each method a thin handler over ``JobManager``.
/// Streams replay from the job's event log and follow it live; a watcher that falls behind is cut
/// off with RESOURCE_EXHAUSTED naming the seq to resume after. A call for a job (or a start on a
/// project) that another server of the same coordination database runs is forwarded to it
/// (``JobForwarder``).
public struct GenerationService: RPCService {
    let jobs: JobManager

    public init(jobs: JobManager) {
        self.jobs = jobs
    }

    public func register(into router: inout RPCRouter) {
        let jobs = self.jobs
        let flushInterval = jobs.configuration.eventFlushInterval
        router.registerServerStreaming(
            ImageGenerationMethod.startGeneration.rawValue, StartGenerationRequest.self, ProgressEvent.self
        ) { request, context, writer in
            try await jobs.requireReady()
            var job: GenerationJob?
            var attached = false
            for attempt in 1...2 where job == nil {
                do {
                    (job, attached) = try await jobs.startJob(request, id: nil)
                } catch let error as RPCError where error.code == .failedPrecondition && !JobForwarder.isForwarded(context) {
                    // The project is another server's: the start goes there (it attaches to the same work).
                    if let owner = await jobs.foreignOwner(ofStart: request.projectDir, refusedWith: error) {
                        return try await jobs.forwarder.stream(.startGeneration, request, to: owner, writer: writer)
                    }
                    // Refused by a lock whose holder's lease never showed: its job ended meanwhile
                    // (a one-beat job can end within the wait), so the lock may be free: once more.
                    guard attempt == 1, JobManager.refusedByLock(error), jobs.configuration.leases != nil else { throw error }
                }
            }
            guard let job else { throw RPCError(.internalError, "no job was started") }
            guard let accepted = await job.acceptedEvent(attached: attached) else {
                throw RPCError(.unavailable, "job \(job.id) ended before it was accepted; start it again")
            }
            try await writer.send(accepted)
            if request.detach { return }
            try await Self.stream(job, after: accepted.seq, flushInterval: flushInterval, to: writer)
        }
        router.registerServerStreaming(
            ImageGenerationMethod.watchJob.rawValue, WatchJobRequest.self, ProgressEvent.self
        ) { request, context, writer in
            switch try await jobs.locate(request.jobID, mayForward: !JobForwarder.isForwarded(context), watching: request.afterSeq) {
            case .here(let job):
                try await Self.stream(job, after: request.afterSeq, flushInterval: flushInterval, to: writer)
            case .elsewhere(let owner):
                try await jobs.forwarder.stream(.watchJob, request, to: owner, writer: writer)
            }
        }
        router.registerUnary(ImageGenerationMethod.getStatus.rawValue, GetStatusRequest.self) { request, context in
            if case .jobID(let id)? = request.target, let owner = try await Self.owner(of: id, jobs, context) {
                return try await jobs.forwarder.unary(.getStatus, request, as: JobStatus.self, to: owner, deadline: context.deadline)
            }
            return try await jobs.status(request)
        }
        router.registerUnary(ImageGenerationMethod.cancelGeneration.rawValue, JobRequest.self) { request, context in
            if let owner = try await Self.owner(of: request.jobID, jobs, context) {
                return try await jobs.forwarder.unary(.cancelGeneration, request, as: JobStatus.self, to: owner, deadline: context.deadline)
            }
            return try await jobs.cancel(request.jobID, deadline: context.deadline)
        }
        router.registerUnary(ImageGenerationMethod.pauseGeneration.rawValue, JobRequest.self) { request, context in
            if let owner = try await Self.owner(of: request.jobID, jobs, context) {
                return try await jobs.forwarder.unary(.pauseGeneration, request, as: JobStatus.self, to: owner, deadline: context.deadline)
            }
            return try await jobs.pause(request.jobID)
        }
        router.registerUnary(ImageGenerationMethod.resumeGeneration.rawValue, JobRequest.self) { request, context in
            if let owner = try await Self.owner(of: request.jobID, jobs, context) {
                return try await jobs.forwarder.unary(.resumeGeneration, request, as: JobStatus.self, to: owner, deadline: context.deadline)
            }
            return try await jobs.resume(request.jobID)
        }
        router.registerUnary(ImageGenerationMethod.listJobs.rawValue, ListJobsRequest.self) { _, _ in
            ListJobsResponse(jobs: await jobs.list())
        }
        router.registerUnary(ImageGenerationMethod.listServers.rawValue, ListServersRequest.self) { _, _ in
            try await jobs.servers()
        }
    }

    /// The server to forward a call for job `id` to: nil when the job is this server's; a call
    /// that came forwarded is answered here (FAILED_PRECONDITION naming the owner, if another).
    static func owner(of id: String, _ jobs: JobManager, _ context: ServerContext) async throws(RPCError) -> JobOwner? {
        guard case .elsewhere(let owner) = try await jobs.locate(id, mayForward: !JobForwarder.isForwarded(context)) else { return nil }
        return owner
    }

    /// Most events sent in one write.
    static let batchLimit = 64

    /// Sends the job's events after `afterSeq` until the job finishes.
    static func stream(
        _ job: GenerationJob, after afterSeq: UInt64, flushInterval: Duration, to writer: ResponseStreamWriter<ProgressEvent>
    ) async throws {
        let subscription: EventSubscription<EncodedMessage<ProgressEvent>>
        do {
            subscription = try job.events.subscribe(after: afterSeq)
        } catch {
            throw rpcError(error, job: job, afterSeq: afterSeq)
        }
        do {
            // Everything queued goes out in one write: a watcher that fell behind catches up in few
            // flushes. After a write that emptied the queue the stream waits `flushInterval`, so the
            // events of a busy job reach each watcher in one write per interval, not one per event
            // (200 watchers × hundreds of events a second would otherwise cost the server more CPU
            // than the job). The first event after a quiet spell still goes out at once.
            while let batch = try await subscription.next(upTo: Self.batchLimit) {
                try await writer.send(contentsOf: batch.map(\.event))
                if batch.count < Self.batchLimit && flushInterval > .zero {
                    try await Task.sleep(for: flushInterval)
                }
            }
        } catch let error as EventLogError {
            throw rpcError(error, job: job, afterSeq: afterSeq)
        }
        if job.stopReason == .leaseLost { throw JobManager.leaseLostError(job.id) }
    }

    static func rpcError(_ error: EventLogError, job: GenerationJob, afterSeq: UInt64) -> RPCError {
        switch error {
        case .tooOld(let oldest):
            return RPCError(
                .outOfRange,
                "job \(job.id): events after seq \(afterSeq) are no longer kept (the oldest kept is \(oldest)); use GetStatus")
        case .earlierRun(let first):
            return RPCError(
                .outOfRange,
                "job \(job.id): the server restarted; events up to seq \(first - 1) were not kept across the restart"
                    + " (this run's events start at seq \(first)); use GetStatus, then WatchJob with after_seq=\(first - 1)")
        case .inFuture(let last):
            return RPCError(.outOfRange, "job \(job.id): after_seq \(afterSeq) is beyond its last event (\(last)); use GetStatus")
        case .watcherOverflow(let resumeAfter):
            return RPCError(
                .resourceExhausted,
                "job \(job.id): this watcher fell too far behind; reattach with WatchJob after_seq=\(resumeAfter)")
        }
    }
}
