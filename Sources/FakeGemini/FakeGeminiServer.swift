public import Foundation
public import ImageGenPNG
public import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A loopback HTTP/1.1 server that speaks Gemini's `generateContent` (request validation, the real
/// error envelope, small real PNGs), with per-(project, model) limiters (`FakeGeminiLimiter`), latency and fault injection,
/// and a request log.
///
/// ```swift
/// let server = FakeGeminiServer(
///     configuration: FakeGeminiConfiguration(keys: ["AIza-test-key-0001": "project-a"], requestsPerMinute: 10),
///     logger: logger)
/// let port = try await server.start()
/// // … point GeminiConfiguration.baseURL at "http://127.0.0.1:\(port)" …
/// server.enqueueFaults([FakeGeminiScriptedFault(.unavailable)])
/// print(server.requestLog().count)
/// try await server.shutdown()
/// ```
///
/// Control endpoints: `GET /_fake/health`, `GET /_fake/log` (JSON `{"requests":[…]}`), `DELETE /_fake/log`,
/// `POST /_fake/faults` (JSON `{"faults":["rate_limit", {"fault":"drop","key":"…"}]}`).
/// Prompts containing `[[fault:NAME]]` always answer that fault; `[[fault:NAME:N]]` only the first
/// N attempts of that prompt.
///
/// The server owns one event-loop thread from `start()` until `shutdown()`, which closes every
/// connection and joins it.
public final class FakeGeminiServer: Sendable {
    private enum Lifecycle {
        case idle
        case running(group: MultiThreadedEventLoopGroup, channel: any Channel, port: Int)
        case stopped
    }

    /// The configuration the server was created with.
    public let configuration: FakeGeminiConfiguration
    private let backend: FakeGeminiBackend
    private let logger: Logger
    private let lifecycle = Mutex(Lifecycle.idle)

    /// Creates a stopped server; `start()` binds it.
    public init(configuration: FakeGeminiConfiguration = FakeGeminiConfiguration(), logger: Logger) {
        self.configuration = configuration
        self.backend = FakeGeminiBackend(configuration: configuration)
        self.logger = logger
    }

    /// Binds and starts accepting connections; returns the bound port (the real one when the
    /// configured port is 0). Calling it again while running returns the same port.
    @discardableResult
    public func start() async throws -> Int {
        if case .running(_, _, let port) = lifecycle.withLock({ $0 }) { return port }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let backend = self.backend
        let logger = self.logger
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(FakeGeminiHTTPHandler(backend: backend, logger: logger))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        let port = channel.localAddress?.port ?? configuration.port
        let raced = lifecycle.withLock { state -> Bool in
            guard case .idle = state else { return true }
            state = .running(group: group, channel: channel, port: port)
            return false
        }
        if raced {
            try? await channel.close()
            try? await group.shutdownGracefully()
            throw FakeGeminiServerError(message: "the server was started twice or already shut down")
        }
        logger.info("fake gemini listening", metadata: ["host": "\(configuration.host)", "port": "\(port)"])
        return port
    }

    /// The bound port, or nil when not running.
    public var port: Int? {
        if case .running(_, _, let port) = lifecycle.withLock({ $0 }) { return port }
        return nil
    }

    /// The kernel's name of the server's event-loop thread ("NIO-ELT-" and the group's number, one
    /// per server in a process), or nil when not running: what a test watches to see it joined.
    public func ioThreadName() async -> String? {
        guard case .running(let group, _, _) = lifecycle.withLock({ $0 }) else { return nil }
        return try? await group.next().submit { Self.currentThreadName() }.get() ?? nil
    }

    /// The calling thread's kernel name (Linux: its `comm`); nil where the system does not say.
    private static func currentThreadName() -> String? {
        (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Stops accepting, closes every connection (hanging ones included) and joins the event-loop thread.
    public func shutdown() async throws {
        let previous = lifecycle.withLock { state -> Lifecycle in
            defer { state = .stopped }
            return state
        }
        guard case .running(let group, let channel, _) = previous else { return }
        try? await channel.close()
        try await group.shutdownGracefully()
        logger.info("fake gemini stopped")
    }

    /// Queues faults for the next matching requests.
    public func enqueueFaults(_ faults: [FakeGeminiScriptedFault]) {
        backend.enqueue(faults)
    }

    /// Every generateContent request so far, oldest first.
    public func requestLog() -> [FakeGeminiRequestLogEntry] {
        backend.requestLog()
    }

    /// Forgets the requests logged so far (limits and queued faults stay).
    public func clearRequestLog() {
        backend.clearRequestLog()
    }

    /// Every batch the fake holds, oldest first, as it stands now (states advanced to now).
    public func batches() -> [FakeGeminiBatchRecord] {
        backend.batchRecords()
    }

    /// Gives the next batches created these faults, in order.
    public func enqueueBatchFaults(_ faults: [FakeGeminiBatchFault]) {
        backend.batchBook.withLock { $0.faults.append(contentsOf: faults) }
    }

    /// The number of client connections open right now.
    public var openConnectionCount: Int { backend.openConnections }

    /// The PNG the fake answers for a prompt (deterministic).
    public static func image(for prompt: String) throws(PNGEncodingError) -> Data {
        try TinyImageEncoder.png(seed: prompt)
    }
}
