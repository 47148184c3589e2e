public import ImageGenEngine
public import ImageGenRPC
public import ImageGenService
import ImageGenWire
public import Prometheus
import Synchronization

/// The server's Prometheus metrics (names, types and labels are listed in README.md, "Metrics"):
/// RPC calls, provider requests, the engine's events and the service's gauges, in one registry.
/// Every label value comes from the configuration or a fixed set, never from a client.
public final class ServerMetrics: Sendable {
    /// The registry the endpoint emits.
    public let registry = PrometheusCollectorRegistry()
    /// Each configured style's model (the `model` label of engine metrics).
    private let models: [String: String]
    /// Requests in flight by job, then style: summed per style into the gauge.
    let inFlight = Mutex<[String: [String: Int]]>([:])
    /// The optional pace gauges (learned and configured limits) that have a series now.
    let publishedLimits = Mutex<Set<PublishedLimit>>([])

    /// One optional pace gauge series: the metric and its quota.
    struct PublishedLimit: Hashable {
        var metric: String
        var quota: QuotaID
    }

    /// Buckets of the RPC latency histogram, from a quick unary call to a long event stream.
    static let latencyBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5),
        .seconds(10), .seconds(30), .seconds(60), .seconds(300), .seconds(1800),
    ]

    /// `styles` names each style's model.
    public init(styles: [StyleConfiguration]) {
        var models: [String: String] = [:]
        for style in styles { models[style.name] = style.model }
        self.models = models
        for style in styles { inFlightGauge(style.name).set(Double(0)) }
    }

    // MARK: Names

    static func name(_ subsystem: String, _ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "imagegen", subsystem: subsystem, metricName: metric, unitName: unit, helpText: help)
    }

    func counter(_ subsystem: String, _ metric: String, _ help: String, _ labels: [(String, String)]) -> Counter {
        registry.makeCounter(descriptor: Self.name(subsystem, metric, "total", help), labels: labels)
    }

    func gauge(_ subsystem: String, _ metric: String, _ unit: String, _ help: String, _ labels: [(String, String)]) -> Gauge {
        registry.makeGauge(descriptor: Self.name(subsystem, metric, unit, help), labels: labels)
    }

    func model(of style: String) -> String { models[style] ?? "unknown" }

    // MARK: Service

    /// Sets the service gauges and the engine's pace gauges to what they are now (called before each scrape).
    public func record(_ gauges: ServiceGauges) {
        for state in JobState.allCases where state != .unspecified {
            gauge("service", "jobs", "", "Jobs the server holds in memory (running, and the finished ones kept), by state.",
                  [("state", state.name)]).set(Double(gauges.jobsByState[state] ?? 0))
        }
        gauge("service", "event_stream_watchers", "", "Event streams (StartGeneration, WatchJob) attached to a job.", [])
            .set(Double(gauges.watchers))
        record(paces: gauges.paces)
    }
}

extension ServerMetrics: RPCCallObserver {
    public func callEnded(method: String, code: String, duration: Duration) {
        let labels = [("method", method), ("code", code)]
        counter("rpc", "calls", "RPC calls ended, by method and status code.", labels).increment()
        registry.makeDurationHistogram(
            descriptor: Self.name("rpc", "call_duration", "seconds", "RPC call latency, admission to status, by method."),
            labels: [("method", method)], buckets: Self.latencyBuckets
        ).record(duration)
    }
}
