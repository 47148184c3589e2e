public import ArgumentParser
import Foundation
public import ImageGenClient
public import ImageGenRPC

/// `--server HOST:PORT`, shared by every command that talks to a server; the token comes from
/// `IMAGEGEN_AUTH_TOKEN`, never from a flag.
public struct ClientOptions: ParsableArguments {
    /// The default address: the server's default on this machine.
    public static let defaultServer = "127.0.0.1:7420"

    @Option(name: .long, help: "The server, HOST:PORT.")
    public var server: String = ClientOptions.defaultServer

    /// How the CLI's client connects and reads: the client's defaults.
    public var configuration: RPCClient.Configuration { RPCClient.Configuration() }

    public init() {}

    public func validate() throws {
        _ = try Self.parse(server)
    }

    /// Splits HOST:PORT (IPv6 hosts in brackets).
    static func parse(_ text: String) throws -> (host: String, port: Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (1...65535).contains(port), colon != text.startIndex
        else {
            throw ValidationError("--server must be HOST:PORT with a port from 1 to 65535, got \"\(text)\"")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host, port)
    }

    /// Connects to the server.
    public func connect() async throws -> ImageGenerationClient {
        try await connector()
    }

    /// Connects to the server each time it is called (a follower's new connection after the
    /// old one ended).
    public var connector: @Sendable () async throws -> ImageGenerationClient {
        let (server, configuration) = (self.server, self.configuration)
        return {
            let (host, port) = try Self.parse(server)
            let token = ProcessInfo.processInfo.environment["IMAGEGEN_AUTH_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
            return try await ImageGenerationClient.connect(host: host, port: port, token: token, configuration: configuration)
        }
    }
}
