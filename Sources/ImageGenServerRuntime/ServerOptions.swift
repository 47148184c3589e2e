public import ArgumentParser
import Foundation
public import ImageGenRPC
public import Logging
public import ServiceLifecycle

/// The flags every imagegen server executable shares (`imagegen-server`, `imagegen-interop-server`,
/// `imagegen serve`), and the code that runs a server with them until SIGTERM or SIGINT.
public struct ServerOptions: ParsableArguments {
    @Option(name: .long, help: "Address to listen on, HOST:PORT; port 0 picks a free port.")
    public var listen: String = "127.0.0.1:7420"

    @Option(name: .long, help: "Largest frame accepted, in bytes.")
    public var maxFrameBytes: Int = 16 * 1024 * 1024

    @Option(name: .long, help: "Calls open at once on one connection.")
    public var maxCallsPerConnection: Int = 128

    @Option(name: .long, help: "Connections open at once.")
    public var maxConnections: Int = 1024

    @Option(name: .long, help: "Seconds a connection with no open call may stay silent before it is closed.")
    public var idleTimeout: Double = 300

    @Option(name: .long, help: "Seconds a frame may take to arrive whole, from its first byte.")
    public var frameTimeout: Double = 30

    @Option(name: .long, help: "Seconds a graceful shutdown waits for open calls.")
    public var shutdownGrace: Double = 10

    @Option(name: .long, help: "Longest method name a call may name, in bytes.")
    public var maxMethodBytes: Int = 256

    @Option(name: .long, help: "Most metadata entries one call may carry.")
    public var maxMetadataEntries: Int = 64

    @Option(name: .long, help: "Most bytes of metadata (keys and values) one call may carry.")
    public var maxMetadataBytes: Int = 16 * 1024

    @Option(name: .long, help: "Seconds a new connection has to make an authenticated call before it is closed (pings do not count).")
    public var authTimeout: Double = 10

    @Option(name: .long, help: "Seconds a peer may take no bytes while the server has bytes for it, before it is closed.")
    public var writeStallTimeout: Double = 30

    @Option(name: .long, help: "Connections open at once from one remote address.")
    public var maxConnectionsPerAddress: Int = 256

    @Option(name: .long, help: "Bytes held for all clients at once (frames being received, answers not yet sent); past it new work is refused.")
    public var bufferBudgetBytes: Int = 256 * 1024 * 1024

    @Flag(name: .long, help: "Listen on a non-loopback address without IMAGEGEN_AUTH_TOKEN (anyone who can reach it can spend your keys).")
    public var allowUnauthenticated = false

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    public var logLevel: String = "info"

    public init() {}

    public func validate() throws {
        let address = try ListenAddress(listen)
        if !address.isLoopback, Self.tokenFromEnvironment == nil, !allowUnauthenticated {
            throw ValidationError(
                "--listen \(listen) is not a loopback address and IMAGEGEN_AUTH_TOKEN is not set: anyone who can reach it could spend the keys; set IMAGEGEN_AUTH_TOKEN, or pass --allow-unauthenticated")
        }
        guard maxFrameBytes >= 64 else { throw ValidationError("--max-frame-bytes must be at least 64, got \(maxFrameBytes)") }
        guard maxCallsPerConnection >= 1 else { throw ValidationError("--max-calls-per-connection must be at least 1") }
        guard maxConnections >= 1 else { throw ValidationError("--max-connections must be at least 1") }
        for (name, value) in [
            ("--max-method-bytes", maxMethodBytes), ("--max-metadata-entries", maxMetadataEntries),
            ("--max-metadata-bytes", maxMetadataBytes), ("--max-connections-per-address", maxConnectionsPerAddress),
            ("--buffer-budget-bytes", bufferBudgetBytes),
        ]
        where value < 1 {
            throw ValidationError("\(name) must be at least 1, got \(value)")
        }
        for (name, value) in [
            ("--idle-timeout", idleTimeout), ("--frame-timeout", frameTimeout), ("--shutdown-grace", shutdownGrace),
            ("--auth-timeout", authTimeout), ("--write-stall-timeout", writeStallTimeout),
        ]
        where !(value > 0) {
            throw ValidationError("\(name) must be a positive number of seconds, got \(value)")
        }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level: unknown level \"\(logLevel)\"") }
    }

    /// The auth token from `IMAGEGEN_AUTH_TOKEN`, never from a flag (flags show in `ps`).
    public static var tokenFromEnvironment: String? {
        ProcessInfo.processInfo.environment["IMAGEGEN_AUTH_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Sends swift-log output to stderr at the chosen level. Call once per process.
    public func bootstrapLogging() {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }

    /// The server configuration these flags describe.
    public func configuration(authToken: String?) throws -> RPCServerConfiguration {
        let address = try ListenAddress(listen)
        return RPCServerConfiguration(
            host: address.host, port: address.port, authToken: authToken, maxFrameBytes: maxFrameBytes,
            maxCallsPerConnection: maxCallsPerConnection, maxConnections: maxConnections,
            idleTimeout: .seconds(idleTimeout), frameTimeout: .seconds(frameTimeout),
            shutdownGracePeriod: .seconds(shutdownGrace), maxMethodBytes: maxMethodBytes, maxMetadataEntries: maxMetadataEntries,
            maxMetadataBytes: maxMetadataBytes, authTimeout: .seconds(authTimeout), writeStallTimeout: .seconds(writeStallTimeout),
            maxConnectionsPerAddress: maxConnectionsPerAddress, bufferBudgetBytes: bufferBudgetBytes)
    }

    /// Serves `router` until SIGTERM or SIGINT, with `services` (started before the server, shut
    /// down after it); prints "listening on HOST:PORT" on stdout once it accepts connections, then
    /// `announce` lines, if any. `callObserver` is told of every call's end (metrics);
    /// `onListening`, of the address the server listens on, once it does.
    public func serve(
        router: RPCRouter, label: String, services: [any Service] = [], announce: [String] = [],
        callObserver: (any RPCCallObserver)? = nil, logger: Logger? = nil,
        onListening: (@Sendable (_ host: String, _ port: Int) -> Void)? = nil
    ) async throws {
        try ProcessHardening.apply()
        let logger = logger ?? Logger(label: label)
        let token = Self.tokenFromEnvironment
        var configuration = try configuration(authToken: token)
        configuration.callObserver = callObserver
        let server = RPCServer(configuration: configuration, router: router, logger: logger)
        let group = ServiceGroup(
            configuration: .init(services: services + [server], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            tasks.addTask {
                let bound = try await server.listeningAddress
                onListening?(bound.host, bound.port)
                print("listening on \(bound.host):\(bound.port)")
                for line in announce { print(line) }
                fflush(nil)
                logger.info("authentication \(token == nil ? "off (IMAGEGEN_AUTH_TOKEN not set)" : "on")")
            }
            try await tasks.waitForAll()
        }
    }
}

/// A parsed `HOST:PORT` (IPv6 hosts in brackets).
public struct ListenAddress: Sendable, Equatable {
    public var host: String
    public var port: Int

    public init(_ text: String) throws {
        guard let colon = text.lastIndex(of: ":") else {
            throw ValidationError("--listen must be HOST:PORT, got \"\(text)\"")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("--listen must be HOST:PORT with a port from 0 to 65535, got \"\(text)\"")
        }
        self.host = host
        self.port = port
    }

    /// True for "localhost" and the loopback addresses (127.0.0.0/8, ::1, ::ffff:127.x.x.x).
    public var isLoopback: Bool {
        if host == "localhost" { return true }
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return UInt32(bigEndian: v4.s_addr) >> 24 == 127 }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, host, &v6) == 1 else { return false }
        let bytes = withUnsafeBytes(of: v6) { Array($0) }
        if bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return true }
        let mapped = bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF
        return mapped && bytes[12] == 127
    }
}
