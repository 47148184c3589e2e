public import ImageGenRPC
import ImageGenWire

/// `imagegen.v1.ImageGeneration` over the RPC layer: each method a thin handler over ``JobManager``.
/// Streams replay from the job's event log and follow it live; a watcher that falls behind is cut
/// off with RESOURCE_EXHAUSTED naming the seq to resume after.
public struct GenerationService: RPCService {
    let jobs: JobManager

    public init(jobs: JobManager) {
        self.jobs = jobs
    }

    public func register(into router: inout RPCRouter) {
        let jobs = self.jobs
        router.registerServerStreaming(
            ImageGenerationMethod.startGeneration.rawValue, StartGenerationRequest.self, ProgressEvent.self
        ) { request, _, writer in
            await jobs.waitUntilReady()
            let (job, attached) = try await jobs.startJob(request, id: nil)
            guard let accepted = job.acceptedEvent(attached: attached) else {
                throw RPCError(.internalError, "job \(job.id) has no accepted event")
            }
            try await writer.send(accepted)
            if request.detach { return }
            try await Self.stream(job, after: accepted.seq, to: writer)
        }
        router.registerServerStreaming(
            ImageGenerationMethod.watchJob.rawValue, WatchJobRequest.self, ProgressEvent.self
        ) { request, _, writer in
            try await Self.stream(try await jobs.job(request.jobID), after: request.afterSeq, to: writer)
        }
        router.registerUnary(ImageGenerationMethod.getStatus.rawValue, GetStatusRequest.self) { request, _ in
            try await jobs.status(request)
        }
        router.registerUnary(ImageGenerationMethod.cancelGeneration.rawValue, JobRequest.self) { request, _ in
            try await jobs.cancel(request.jobID)
        }
        router.registerUnary(ImageGenerationMethod.pauseGeneration.rawValue, JobRequest.self) { request, _ in
            try await jobs.pause(request.jobID)
        }
        router.registerUnary(ImageGenerationMethod.resumeGeneration.rawValue, JobRequest.self) { request, _ in
            try await jobs.resume(request.jobID)
        }
        router.registerUnary(ImageGenerationMethod.listJobs.rawValue, ListJobsRequest.self) { _, _ in
            ListJobsResponse(jobs: await jobs.list())
        }
    }

    /// Sends the job's events after `afterSeq` until the job finishes.
    static func stream(_ job: GenerationJob, after afterSeq: UInt64, to writer: ResponseStreamWriter<ProgressEvent>) async throws {
        let subscription: EventSubscription<ProgressEvent>
        do {
            subscription = try job.events.subscribe(after: afterSeq)
        } catch {
            throw rpcError(error, job: job, afterSeq: afterSeq)
        }
        do {
            // Everything queued goes out in one write: a watcher that fell behind catches up in few flushes.
            while let batch = try await subscription.next(upTo: 64) {
                try await writer.send(contentsOf: batch.map(\.event))
            }
        } catch let error as EventLogError {
            throw rpcError(error, job: job, afterSeq: afterSeq)
        }
    }

    static func rpcError(_ error: EventLogError, job: GenerationJob, afterSeq: UInt64) -> RPCError {
        switch error {
        case .tooOld(let oldest):
            return RPCError(
                .outOfRange,
                "job \(job.id): events after seq \(afterSeq) are no longer kept (the oldest kept is \(oldest)); use GetStatus")
        case .inFuture(let last):
            return RPCError(.outOfRange, "job \(job.id): after_seq \(afterSeq) is beyond its last event (\(last)); use GetStatus")
        case .watcherOverflow(let resumeAfter):
            return RPCError(
                .resourceExhausted,
                "job \(job.id): this watcher fell too far behind; reattach with WatchJob after_seq=\(resumeAfter)")
        }
    }
}
