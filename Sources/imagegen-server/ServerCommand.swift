import ArgumentParser
import Foundation
import ImageGenRPC
import Logging
import ServiceLifecycle

/// `imagegen-server`: serves the imagegen RPC protocol on TCP until SIGTERM or SIGINT.
@main
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "imagegen-server",
        abstract: "Serve the imagegen RPC protocol (length-prefixed protobuf frames over TCP).",
        discussion: """
            The auth token is read from the environment variable IMAGEGEN_AUTH_TOKEN (never from a flag: \
            flags show in `ps`). When it is set, every call must carry metadata "authorization: Bearer <token>".
            Once the server accepts connections it prints one line "listening on HOST:PORT" on stdout.
            """)

    @Option(name: .long, help: "Address to listen on, HOST:PORT; port 0 picks a free port.")
    var listen: String = "127.0.0.1:7420"

    @Option(name: .long, help: "Largest frame accepted, in bytes.")
    var maxFrameBytes: Int = 16 * 1024 * 1024

    @Option(name: .long, help: "Calls open at once on one connection.")
    var maxCallsPerConnection: Int = 128

    @Option(name: .long, help: "Connections open at once.")
    var maxConnections: Int = 1024

    @Option(name: .long, help: "Seconds a connection with no open call may stay silent before it is closed.")
    var idleTimeout: Double = 300

    @Option(name: .long, help: "Seconds a frame may take to arrive whole, from its first byte.")
    var frameTimeout: Double = 30

    @Option(name: .long, help: "Seconds a graceful shutdown waits for open calls.")
    var shutdownGrace: Double = 10

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func validate() throws {
        _ = try ListenAddress(listen)
        guard maxFrameBytes >= 64 else { throw ValidationError("--max-frame-bytes must be at least 64, got \(maxFrameBytes)") }
        guard maxCallsPerConnection >= 1 else { throw ValidationError("--max-calls-per-connection must be at least 1") }
        guard maxConnections >= 1 else { throw ValidationError("--max-connections must be at least 1") }
        for (name, value) in [("--idle-timeout", idleTimeout), ("--frame-timeout", frameTimeout), ("--shutdown-grace", shutdownGrace)]
        where !(value > 0) {
            throw ValidationError("\(name) must be a positive number of seconds, got \(value)")
        }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level: unknown level \"\(logLevel)\"") }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "imagegen-server")
        let address = try ListenAddress(listen)
        let token = ProcessInfo.processInfo.environment["IMAGEGEN_AUTH_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }

        let configuration = RPCServerConfiguration(
            host: address.host, port: address.port, authToken: token, maxFrameBytes: maxFrameBytes,
            maxCallsPerConnection: maxCallsPerConnection, maxConnections: maxConnections,
            idleTimeout: .seconds(idleTimeout), frameTimeout: .seconds(frameTimeout),
            shutdownGracePeriod: .seconds(shutdownGrace))
        let server = RPCServer(configuration: configuration, router: RPCRouter(), logger: logger)
        let group = ServiceGroup(
            configuration: .init(services: [server], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))

        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            tasks.addTask {
                let bound = try await server.listeningAddress
                print("listening on \(bound.host):\(bound.port)")
                fflush(nil)
                logger.info("authentication \(token == nil ? "off (IMAGEGEN_AUTH_TOKEN not set)" : "on")")
            }
            try await tasks.waitForAll()
        }
    }
}

/// A parsed `HOST:PORT`.
struct ListenAddress {
    var host: String
    var port: Int

    init(_ text: String) throws {
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
}
