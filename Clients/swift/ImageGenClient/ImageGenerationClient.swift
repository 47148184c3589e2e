public import ImageGenRPC
public import ImageGenWire

/// A typed client for `imagegen.v1.ImageGeneration` and `imagegen.v1.Health` over one connection.
///
/// ```swift
/// let client = try await ImageGenerationClient.connect(host: "127.0.0.1", port: 7420, token: token)
/// defer { client.close() }
/// for try await event in try await client.startGeneration(StartGenerationRequest(projectDir: "film-a")) {
///     print(event.seq, event.kind as Any)
/// }
/// ```
public struct ImageGenerationClient: Sendable {
    /// The underlying RPC connection, for calls this type does not wrap.
    public let rpc: RPCClient

    public init(rpc: RPCClient) {
        self.rpc = rpc
    }

    /// Connects to a server; `token` is sent as `authorization: Bearer <token>` on every call.
    public static func connect(
        host: String, port: Int, token: String? = nil, configuration: RPCClient.Configuration = RPCClient.Configuration()
    ) async throws -> ImageGenerationClient {
        ImageGenerationClient(rpc: try await RPCClient.connect(host: host, port: port, token: token, configuration: configuration))
    }

    /// Closes the connection.
    public func close() { rpc.close() }

    /// Whether calls may go over the connection still (see ``RPCClient/isOpen``).
    public var isOpen: Bool { rpc.isOpen }

    /// Starts a job (or attaches to the one running the same storyboard) and streams its events:
    /// first `accepted`, last `finished` (unless `detach` is set: then only `accepted`).
    public func startGeneration(_ request: StartGenerationRequest, timeout: Duration? = nil) async throws
        -> RPCResponseStream<ProgressEvent>
    {
        try await rpc.serverStreaming(
            ImageGenerationMethod.startGeneration.rawValue, request, as: ProgressEvent.self, timeout: timeout)
    }

    /// Replays a job's events after `afterSeq`, then follows live until the job finishes; 0 replays
    /// the job's current run from its start. Throws OUT_OF_RANGE when the server no longer keeps
    /// those events (use `getStatus`), e.g. for an `afterSeq` from before a server restart: a
    /// resumed job goes on with higher seqs, and the message names the `afterSeq` to use.
    public func watchJob(_ jobID: String, afterSeq: UInt64 = 0) async throws -> RPCResponseStream<ProgressEvent> {
        try await rpc.serverStreaming(
            ImageGenerationMethod.watchJob.rawValue, WatchJobRequest(jobID: jobID, afterSeq: afterSeq),
            as: ProgressEvent.self)
    }

    /// A job's status, by job id or by project (answered from the files when no job runs).
    /// `timeout` nil: the configuration's `unaryCallTimeout`.
    public func getStatus(_ target: GetStatusRequest.Target, includeBeats: Bool = false, timeout: Duration? = nil)
        async throws -> JobStatus
    {
        try await rpc.unary(
            ImageGenerationMethod.getStatus.rawValue, GetStatusRequest(target: target, includeBeats: includeBeats),
            as: JobStatus.self, timeout: timeout ?? rpc.configuration.unaryCallTimeout)
    }

    /// Stops a job; what is done stays done, and a new start resumes it.
    public func cancelGeneration(_ jobID: String) async throws -> JobStatus {
        try await jobCall(.cancelGeneration, jobID)
    }

    /// Stops starting new requests for a job; those in flight finish.
    public func pauseGeneration(_ jobID: String) async throws -> JobStatus {
        try await jobCall(.pauseGeneration, jobID)
    }

    /// Lets a paused job go on.
    public func resumeGeneration(_ jobID: String) async throws -> JobStatus {
        try await jobCall(.resumeGeneration, jobID)
    }

    /// The jobs the server knows, running and finished.
    public func listJobs() async throws -> [JobStatus] {
        try await rpc.unary(
            ImageGenerationMethod.listJobs.rawValue, ListJobsRequest(), as: ListJobsResponse.self,
            timeout: rpc.configuration.unaryCallTimeout
        ).jobs
    }

    /// The servers that share the answering server's coordination database (it first), each with
    /// the jobs it leases; without a database, the answering server alone (`coordinated` false).
    public func listServers() async throws -> ListServersResponse {
        try await rpc.unary(
            ImageGenerationMethod.listServers.rawValue, ListServersRequest(), as: ListServersResponse.self,
            timeout: rpc.configuration.unaryCallTimeout)
    }

    /// The server's health ("" for the whole server).
    public func health(service: String = "") async throws -> HealthCheckResponse.ServingStatus {
        try await rpc.unary(
            RPCServer.healthCheckMethod, HealthCheckRequest(service: service), as: HealthCheckResponse.self,
            timeout: rpc.configuration.healthCheckTimeout
        ).status
    }

    private func jobCall(_ method: ImageGenerationMethod, _ jobID: String) async throws -> JobStatus {
        try await rpc.unary(method.rawValue, JobRequest(jobID: jobID), as: JobStatus.self, timeout: rpc.configuration.unaryCallTimeout)
    }
}
