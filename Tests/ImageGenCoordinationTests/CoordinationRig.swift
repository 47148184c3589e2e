import Foundation
import ImageGenCoordination
import ImageGenEngine
import ImageGenTestSupport
import Logging

/// A started PostgreSQL cluster and `count` coordination databases connected to it, each as a
/// server would have it (its own connection, run as a service in a child task), for one test.
struct CoordinationRig: Sendable {
    let cluster: PostgresCluster
    let databases: [CoordinationDatabase]
    /// What each database told its observer.
    let recorders: [CoordinationRecorder]

    /// A quota coordinator per database (made once: each listens on its database).
    let coordinators: [PostgresQuotaCoordinator]

    static let logger: Logger = {
        var logger = Logger(label: "coordination-test")
        logger.logLevel = .critical
        return logger
    }()

    static func settings(_ cluster: PostgresCluster) throws -> CoordinationSettings {
        try CoordinationSettings(url: cluster.url)
    }

    /// Runs `body` with a fresh cluster and `count` connected databases; stops them all after.
    static func with<T: Sendable>(
        databases count: Int, _ body: @escaping @Sendable (CoordinationRig) async throws -> T
    ) async throws -> T {
        try await PostgresCluster.with { cluster in
            let settings = try Self.settings(cluster)
            let recorders = (0..<count).map { _ in CoordinationRecorder() }
            let databases = recorders.map { CoordinationDatabase(settings: settings, observer: $0, logger: logger) }
            return try await CoordinationDatabase.whileRunning(databases) {
                for database in databases { try await waitUntilAvailable(database) }
                let coordinators = databases.map { PostgresQuotaCoordinator(database: $0) }
                return try await body(CoordinationRig(cluster: cluster, databases: databases, recorders: recorders, coordinators: coordinators))
            }
        }
    }

    /// Waits (at most `timeout`) for a database to be connected and migrated.
    static func waitUntilAvailable(_ database: CoordinationDatabase, timeout: Duration = .seconds(20)) async throws {
        guard await database.waitUntilAvailable(within: timeout) else {
            throw ChildProcess.ProcessFailure(message: "the coordination database did not connect within \(timeout)")
        }
    }
}
