import ImageGenRPC
import ImageGenWire

/// Forwards a call for a job that another server runs (see ``JobManager/locate(_:mayForward:)``)
/// to that server, at the address its heartbeat recorded: over a connection of the call's own,
/// closed when the call ends, with this server's token (servers that share a database share a
/// token) and the metadata ``forwardedBy``, so that a forwarded call is never forwarded again.
/// The owner's answer, events and errors reach the caller as the owner sent them.
struct JobForwarder: Sendable {
    /// The metadata key of a forwarded call; its value is the forwarding server's id.
    static let forwardedBy = "imagegen-forwarded-by"

    let token: String?
    let serverID: String

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
        return try await client.unary(method.rawValue, request, as: Response.self, timeout: timeout, metadata: metadata)
    }

    /// Relays the owner's stream of events to `writer` until it ends, the owner's way.
    func stream<Request: WireMessage>(
        _ method: ImageGenerationMethod, _ request: Request, to owner: JobOwner, writer: ResponseStreamWriter<ProgressEvent>
    ) async throws {
        let client = try await connect(owner)
        defer { client.close() }
        for try await event in try await client.serverStreaming(method.rawValue, request, as: ProgressEvent.self, metadata: metadata) {
            try await writer.send(event)
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
