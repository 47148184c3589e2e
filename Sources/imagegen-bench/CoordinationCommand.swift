import ArgumentParser
import Foundation
import ImageGenCoordination
import ImageGenEngine
import Logging
import PostgresNIO
import ServiceLifecycle

/// `imagegen-bench coordination`: the cost of sharing quotas through PostgreSQL. One server's
/// connection asks for starts one after another (the latency a request start gains), next to a
/// bare `SELECT 1` round trip; then `servers` connections (as many servers would hold) ask as fast
/// as they can, all on one quota (one row, the contended case) and each on quotas of its own.
/// Grants are asked with a spacing of zero, so every answer is a start and nothing waits on a pace.
struct CoordinationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coordination",
        abstract: "Coordination: the latency a request start gains, and grants per second with several servers.")

    @Option(help: "The PostgreSQL database to measure on (postgres://USER@HOST:PORT/DATABASE); scripts/local-postgres starts one. Its imagegen_quota rows of project bench-* are used.")
    var database: String
    @Option(help: "Sequential calls of each latency measurement.")
    var calls = 2_000
    @Option(help: "Servers (one connection each) of the throughput measurements.")
    var servers = 3
    @Option(help: "Concurrent askers per server.")
    var tasks = 4
    @Option(help: "Seconds of each throughput measurement.")
    var seconds = 5.0
    @Flag(help: "Also print the report as JSON.")
    var json = false

    var commandLine: String {
        "imagegen-bench coordination --database \(database) --calls \(calls) --servers \(servers) --tasks \(tasks) --seconds \(seconds)"
    }

    func validate() throws {
        guard calls >= 10, (1...50).contains(servers), (1...64).contains(tasks), seconds > 0 else {
            throw ValidationError("--calls must be at least 10, --servers 1 to 50, --tasks 1 to 64, --seconds positive")
        }
        do {
            _ = try CoordinationSettings(url: database)
        } catch {
            throw ValidationError("--database: \(error.message)")
        }
    }

    func run() async throws {
        var logger = Logger(label: "bench-coordination")
        logger.logLevel = .error
        let settings = try CoordinationSettings(url: database)
        let databases = (0..<servers).map { _ in CoordinationDatabase(settings: settings, logger: logger) }
        let command = self
        let report = try await CoordinationDatabase.whileRunning(databases) { [logger] in
            try await command.measure(databases, logger: logger)
        }
        report.print(json: json)
    }

    private func measure(_ databases: [CoordinationDatabase], logger: Logger) async throws -> BenchReport {
        for database in databases { try await waitUntilAvailable(database) }
        var report = BenchReport(scenario: "coordination", command: commandLine)
        report.notes.append(
            "the \(servers) servers are \(servers) connections of this one process (a server holds one); PostgreSQL runs on the same \(ProcessStats.processorCount) cores")
        let coordinators = databases.map { PostgresQuotaCoordinator(database: $0) }
        let run = UUID().uuidString.prefix(8)

        let roundTrip = try await sequential(calls) { try await Self.selectOne(databases[0]) }
        let grant = try await sequential(calls) {
            _ = try await coordinators[0].grant(QuotaID(project: "bench-\(run)-alone", model: "m"), spacing: .zero)
        }
        report.add("SELECT 1 p50", roundTrip.percentile(50) * 1_000, "µs", "a bare round trip on the connection")
        report.add("grant p50", grant.percentile(50) * 1_000, "µs", "one request start's added latency, one server", headline: true)
        report.add("grant p99", grant.percentile(99) * 1_000, "µs", "")
        report.add("grant ÷ SELECT 1 (p50)", grant.percentile(50) / roundTrip.percentile(50), "×", "the work of the grant beyond a round trip", headline: true)

        let shared = try await throughput(coordinators) { _ in QuotaID(project: "bench-\(run)-shared", model: "m") }
        let apart = try await throughput(coordinators) { server in QuotaID(project: "bench-\(run)-server-\(server)", model: "m") }
        report.add("grants/s, one quota", shared.rate, "1/s", "\(servers) servers × \(tasks) askers on one row", headline: true)
        report.add("grant p50, one quota", shared.latency.percentile(50) * 1_000, "µs", "")
        report.add("grant p99, one quota", shared.latency.percentile(99) * 1_000, "µs", "")
        report.add("grants/s, a quota per server", apart.rate, "1/s", "\(servers) servers × \(tasks) askers, a row each")
        report.add("one quota ÷ a quota per server", shared.rate / apart.rate, "×", "what contention on one row costs", headline: true)
        report.add("one quota ÷ Gemini's 20 req/s", shared.rate / 20, "×", "headroom over a 1,200-per-minute quota")
        return report
    }

    private func sequential(_ count: Int, _ body: () async throws -> Void) async throws -> LatencySample {
        var sample = LatencySample()
        for _ in 0..<count {
            let started = ContinuousClock.now
            try await body()
            sample.add(ContinuousClock.now - started)
        }
        return sample
    }

    /// Every server's askers grant as fast as they can for `seconds`.
    private func throughput(
        _ coordinators: [PostgresQuotaCoordinator], quota: @escaping @Sendable (Int) -> QuotaID
    ) async throws -> (rate: Double, latency: LatencySample) {
        let duration = Duration.milliseconds(Int(seconds * 1_000))
        let started = ContinuousClock.now
        let end = started + duration
        let latency = try await withThrowingTaskGroup(of: LatencySample.self) { group in
            for (server, coordinator) in coordinators.enumerated() {
                for _ in 0..<tasks {
                    group.addTask {
                        var sample = LatencySample()
                        while ContinuousClock.now < end {
                            let asked = ContinuousClock.now
                            _ = try await coordinator.grant(quota(server), spacing: .zero)
                            sample.add(ContinuousClock.now - asked)
                        }
                        return sample
                    }
                }
            }
            return try await group.reduce(into: LatencySample()) { $0.merge($1) }
        }
        return (Double(latency.count) / (ContinuousClock.now - started).seconds, latency)
    }

    private static func selectOne(_ database: CoordinationDatabase) async throws {
        try await database.withConnection { connection in
            _ = try await connection.query("SELECT 1").first?.decode(Int.self)
        }
    }

    private func waitUntilAvailable(_ database: CoordinationDatabase) async throws {
        guard await database.waitUntilAvailable(within: .seconds(10)) else {
            throw ValidationError("could not connect to \(database.settings.endpoint) within 10 s (scripts/local-postgres starts a database)")
        }
    }
}
