import Foundation
import ImageGenEngine
public import ImageGenRPC
public import ImageGenWire

/// ListServers: the servers that share the coordination database, each with the jobs it leases;
/// without a database, this server alone with its active jobs.
extension JobManager {
    /// How long after its last heartbeat a server is still listed (it is, regardless, while it
    /// leases an unfinished job).
    var serversListedFor: Duration { configuration.leaseDuration * 10 }

    /// Most servers listed.
    static let serversListedAtMost = 1000

    /// The servers seen recently, this one marked; UNAVAILABLE when the database does not answer.
    public func servers() async throws(RPCError) -> ListServersResponse {
        await waitUntilReady()
        guard let leases = configuration.leases else {
            return ListServersResponse(servers: [thisServerAlone()], coordinated: false)
        }
        let records: [ServerRecord]
        do {
            records = try await leases.servers(seenWithin: serversListedFor, limit: Self.serversListedAtMost)
        } catch {
            throw RPCError(.unavailable, "the servers cannot be listed: \(error.reason)")
        }
        let servers = records.map(serverInfo)
        let this = servers.first(where: \.thisServer) ?? thisServerAlone()
        return ListServersResponse(
            servers: [this] + servers.filter { !$0.thisServer }, coordinated: true, coordinationProblem: coordinationProblem() ?? "")
    }

    private func serverInfo(_ record: ServerRecord) -> ServerInfo {
        ServerInfo(
            serverID: record.id, address: record.address ?? "", seenUnixMs: record.seenAt.map(Self.unixMs) ?? 0,
            thisServer: record.id == configuration.serverID,
            jobs: record.jobs.map { lease in
                ServerJob(
                    jobID: lease.jobID,
                    projectDir: Self.relativePath(URL(fileURLWithPath: lease.project), root: configuration.projectsRoot.url),
                    leaseExpiresUnixMs: Self.unixMs(lease.expiresAt))
            })
    }

    /// This server as it knows itself: seen now, with its active jobs (no lease, so no expiry).
    private func thisServerAlone() -> ServerInfo {
        let (address, jobs) = state.withLock { state in
            (state.address, state.order.compactMap { state.jobs[$0] })
        }
        return ServerInfo(
            serverID: configuration.serverID, address: address ?? "", seenUnixMs: GenerationJob.nowMs(), thisServer: true,
            jobs: jobs.filter(\.isActive).map { ServerJob(jobID: $0.id, projectDir: $0.projectDir) })
    }

    private static func unixMs(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }
}
