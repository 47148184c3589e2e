import ImageGenMetrics
import ImageGenService
import Logging

/// Starts the `--metrics-listen` endpoint: each scrape first reads the service's gauges.
enum MetricsEndpoint {
    static func start(at address: ListenAddress, metrics: ServerMetrics, jobs: JobManager, logger: Logger) async throws -> MetricsServer {
        try await MetricsServer.bind(
            host: address.host, port: address.port,
            scrape: {
                metrics.record(jobs.gauges())
                return metrics.registry.emitToBuffer()
            },
            logger: logger)
    }
}
