public import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
public import ServiceLifecycle

/// The `--metrics-listen` endpoint: HTTP/1.1 on one address, `GET /metrics` answers the Prometheus
/// text exposition, every other request 404, a request over ``maxRequestBytes`` 431. Bound by
/// ``bind(host:port:scrape:logger:)``; runs as a service until a graceful shutdown, then closes.
public final class MetricsServer: Service, Sendable {
    /// The most bytes one connection may send (request line, headers and any body).
    public static let maxRequestBytes = 8 * 1024

    private let channel: any Channel
    private let logger: Logger
    /// The address bound (the real port when 0 was asked for).
    public let host: String
    public let port: Int

    private init(channel: any Channel, host: String, port: Int, logger: Logger) {
        self.channel = channel
        self.host = host
        self.port = port
        self.logger = logger
    }

    /// Binds the endpoint; `scrape` makes each answer's body (called on an event loop: keep it short).
    public static func bind(
        host: String, port: Int, scrape: @escaping @Sendable () -> [UInt8], logger: Logger
    ) async throws -> MetricsServer {
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(RequestSizeLimiter(limit: maxRequestBytes))
                    try sync.configureHTTPServerPipeline(withPipeliningAssistance: false, withErrorHandling: true)
                    try sync.addHandler(MetricsHTTPHandler(scrape: scrape))
                }
            }
        let channel = try await bootstrap.bind(host: host, port: port).get()
        return MetricsServer(channel: channel, host: host, port: channel.localAddress?.port ?? port, logger: logger)
    }

    /// Serves until a graceful shutdown (or cancellation), then closes the listener.
    public func run() async throws {
        try? await gracefulShutdown()
        try? await channel.close()
        logger.debug("metrics endpoint closed")
    }
}
