import Foundation
import ImageGenEngine

/// A server started with the server id of another live server on the same coordination
/// database: it does not start (the two would run, and bill, the same jobs). Its description is
/// the message a person reads.
public struct ServerIDInUse: Error, CustomStringConvertible, Sendable {
    public let serverID: String
    /// Where the other server is reached (HOST:PORT), when it said.
    public let address: String?
    /// How long ago the other server's heartbeat came, when it was last asked.
    public let seenAgo: Duration

    public var description: String {
        let whereabouts = address.map { " at \($0)" } ?? ""
        let ago = String(format: "%.1f", seenAgo.seconds)
        return "server id \"\(serverID)\" is in use by another running server\(whereabouts) (its heartbeat came \(ago) s ago): give each server its own --server-id"
    }
}
