import ImageGenRPC
import ImageGenWire

/// Forwards a call for a job that another server runs (see ``JobManager/locate(_:mayForward:watching:)``)
/// to that server, at the address its heartbeat recorded: over a connection of the call's own,
/// closed when the call ends, with this server's token (servers that share a database share a
/// token) and the metadata ``forwardedBy``, so that a forwarded call is never forwarded again.
/// The owner's answer, events and errors reach the caller as the owner sent them. While a call
/// is forwarded, the owner is pinged every ``keepAliveInterval``: an owner that stops answering
/// (frozen, partitioned) ends the call with UNAVAILABLE after ``keepAliveLimit``, for the client to
/// ask again (by then the owner's lease has run out and another server takes the job over).
struct JobForwarder: Sendable {
    /// The metadata key of a forwarded call; its value is the forwarding server's id.
    static let forwardedBy = "imagegen-forwarded-by"

    let token: String?
    let serverID: String
    /// How often a relayed stream pings its owner: a third of the lease.
    let keepAliveInterval: Duration
    /// How long a ping may go unanswered before the relayed stream ends: a lease.
    let keepAliveLimit: Duration

    init(token: String?, serverID: String, leaseDuration: Duration) {
        self.token = token
        self.serverID = serverID
        keepAliveInterval = leaseDuration / 3
        keepAliveLimit = leaseDuration
    }

    /// Whether a call came forwarded from another server (and must be answered here).
    static func isForwarded(_ context: ServerContext) -> Bool {
        context.metadata[forwardedBy] != nil
    }

    func unary<Request: WireMessage, Response: WireMessage>(
        _ method: ImageGenerationMethod, _ request: Request, as responseType: Response.Type, to owner: JobOwner,
        deadline: ContinuousClock.Instant?
    ) async throws -> Response {
        let client = try await connect(owner)
        defer { client.close() }
        let timeout = deadline.map { max(.milliseconds(1), $0 - ContinuousClock.now) }
        return try await whileAnswering(client, owner) { [metadata] in
            try await client.unary(method.rawValue, request, as: Response.self, timeout: timeout, metadata: metadata)
        }
    }

    /// Relays the owner's stream of events to `writer` until it ends, the owner's way.
    func stream<Request: WireMessage>(
        _ method: ImageGenerationMethod, _ request: Request, to owner: JobOwner, writer: ResponseStreamWriter<ProgressEvent>
    ) async throws {
        let client = try await connect(owner)
        defer { client.close() }
        try await whileAnswering(client, owner) { [metadata] in
            for try await event in try await client.serverStreaming(method.rawValue, request, as: ProgressEvent.self, metadata: metadata) {
                try await writer.send(event)
            }
        }
    }

    /// Runs `body` (the forwarded call) while ``keepAlive(_:_:)`` pings the owner: the call's end,
    /// or the owner's silence, ends the other.
    private func whileAnswering<T: Sendable>(
        _ client: RPCClient, _ owner: JobOwner, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await keepAlive(client, owner)
                return nil
            }
            defer { group.cancelAll() }
            while let next = try await group.next() {
                if let value = next { return value }
            }
            throw CancellationError()
        }
    }

    /// Pings the owner every ``keepAliveInterval`` until cancelled; throws UNAVAILABLE when a ping
    /// goes unanswered for ``keepAliveLimit``. A ping that fails (the connection ended) leaves the
    /// call to say how it ended.
    private func keepAlive(_ client: RPCClient, _ owner: JobOwner) async throws {
        let limit = keepAliveLimit
        while true {
            try await Task.sleep(for: keepAliveInterval)
            let answered = try await withThrowingTaskGroup(of: Bool.self) { race in
                race.addTask {
                    do { try await client.ping() } catch is CancellationError { throw CancellationError() } catch {}
                    return true
                }
                race.addTask {
                    try await Task.sleep(for: limit)
                    return false
                }
                defer { race.cancelAll() }
                return try await race.next() ?? true
            }
            guard answered else {
                throw RPCError(
                    .unavailable,
                    "server \(owner.serverID) runs the job but stopped answering at \(owner.address) (no answer to a ping within \(limit)); watch it again: another server takes the job over once its lease runs out")
            }
        }
    }

    private var metadata: [String: String] { [Self.forwardedBy: serverID] }

    private func connect(_ owner: JobOwner) async throws(RPCError) -> RPCClient {
        guard let colon = owner.address.lastIndex(of: ":"), let port = Int(owner.address[owner.address.index(after: colon)...]),
            (1...65_535).contains(port)
        else {
            throw RPCError(.unavailable, "server \(owner.serverID) runs the job, at an address that is not HOST:PORT (\"\(owner.address.prefix(100))\")")
        }
        var host = String(owner.address[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        do {
            return try await RPCClient.connect(host: host, port: port, token: token)
        } catch {
            throw RPCError(.unavailable, "server \(owner.serverID) runs the job but cannot be reached at \(owner.address) to forward the call; try again, or ask it directly")
        }
    }
}

/// The server that runs a job another server was asked about, and where its clients reach it.
struct JobOwner: Sendable, Equatable {
    var serverID: String
    var address: String
}

/// Where a job a call names runs: on this server, or on another (to forward the call to).
enum JobLocation: Sendable {
    case here(GenerationJob)
    case elsewhere(JobOwner)
}
