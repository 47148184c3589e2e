public import ArgumentParser
import Foundation
import ImageGenWire

/// `imagegen servers`: the servers sharing the coordination database, one line each with its jobs.
public struct ServersCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "servers", abstract: "List the servers seen recently on the coordination database, with their jobs.")

    @OptionGroup public var client: ClientOptions

    @Flag(name: .long, help: "Print JSON lines.")
    public var json = false

    public init() {}

    public func run() async throws {
        let connection = try await client.connect()
        defer { connection.close() }
        let response = try await connection.listServers()
        if !json && !response.coordinated {
            writeToStandardOutput("(no coordination database: this server alone)\n")
        }
        if !json && !response.coordinationProblem.isEmpty {
            writeToStandardOutput("(this server starts no request: \(response.coordinationProblem))\n")
        }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        for server in response.servers {
            writeToStandardOutput(json ? EventFormatter.jsonLine(server, coordinated: response.coordinated) + "\n" : Self.text(server, now: now))
        }
    }

    /// A server line (id, address, how long ago it was seen, "this server"), then a line per job.
    static func text(_ server: ServerInfo, now: Int64) -> String {
        let address = server.address.isEmpty ? "-" : server.address
        let seen = server.seenUnixMs == 0 ? "never registered" : "seen \(Self.ago(now - server.seenUnixMs)) ago"
        var text = "\(server.serverID)  \(address)  \(seen)\(server.thisServer ? "  (this server)" : "")  \(server.jobs.count) job(s)\n"
        for job in server.jobs {
            let lease = job.leaseExpiresUnixMs == 0
                ? "" : job.leaseExpiresUnixMs > now ? "  lease \(Self.ago(job.leaseExpiresUnixMs - now)) left" : "  lease expired"
            text += "  \(job.jobID)  \(job.projectDir)\(lease)\n"
        }
        return text
    }

    private static func ago(_ ms: Int64) -> String {
        let ms = max(0, ms)
        return ms < 10_000 ? String(format: "%.1fs", Double(ms) / 1000) : "\(ms / 1000)s"
    }
}
