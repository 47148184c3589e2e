import Foundation
public import ImageGenEngine
public import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
public import ServiceLifecycle
import Synchronization

/// The server's one connection to the coordination database, kept open as a service: it
/// connects, migrates the schema (``CoordinationSchema``), and connects again whenever the
/// connection is lost. Every statement goes through ``withConnection(_:)``, which throws
/// ``CoordinationUnavailable`` while there is no connection, and when a statement outlasts
/// ``CoordinationSettings/statementTimeout`` (then the connection is dropped and made again).
/// Statements go through ``CoordinationConnection``, which never leaves one waiting on a
/// connection that closed.
public final class CoordinationDatabase: Service, Sendable {
    /// Where the connection stands.
    enum State {
        case connecting(lastFailure: String?)
        /// Open, and offered to statements since `since`.
        case available(CoordinationConnection, since: ContinuousClock.Instant)
        case stopped
    }

    public let settings: CoordinationSettings
    /// Told of every statement and of the connection coming and going (the server's metrics).
    public let observer: (any CoordinationObserver)?
    private let logger: Logger
    private let state = Mutex(State.connecting(lastFailure: nil))
    private let connectionIDs = Atomic<Int>(0)
    /// The channels ``listen(on:_:)`` asked for, attached to each connection made.
    private let listeners = Mutex<[(channel: String, handler: @Sendable (String) -> Void)]>([])
    /// Where `sslrootcert`, `sslcert` and `sslkey` are read, at each connection attempt.
    private let files = BlockingIO(label: "imagegen.coordination.tls")

    public init(settings: CoordinationSettings, observer: (any CoordinationObserver)? = nil, logger: Logger) {
        self.settings = settings
        self.observer = observer
        self.logger = logger
        observer?.connectionChanged(available: false)  // connecting
    }

    /// Why the TLS files the settings name (`sslrootcert`, `sslcert`, `sslkey`) cannot be used, read
    /// as a connection attempt reads them ("sslkey /etc/imagegen/client.key: not a regular file");
    /// nil when they can, or when none is named. A server checks them before it starts, so that a
    /// file it could never use stops it at once rather than holding every request.
    public func tlsFileProblem() async -> String? {
        let settings = self.settings
        let result = await files.runResult { () throws(CoordinationTLS.Problem) in try CoordinationTLS.configuration(for: settings) }
        if case .failure(let problem) = result { return problem.message }
        return nil
    }

    /// Hands every notification on `channel` (`pg_notify`) to `handler`, on the open connection
    /// and each one made after it; what is notified while there is none is not heard. `handler`
    /// runs on the connection's event loop: it must be quick and never block.
    public func listen(on channel: String, _ handler: @escaping @Sendable (String) -> Void) {
        listeners.withLock { listeners in
            listeners.append((channel, handler))
            if case .success(let connection) = current() { connection.listen(on: channel, handler) }
        }
    }

    /// Whether a connection is open now.
    public var isAvailable: Bool {
        state.withLock { if case .available = $0 { true } else { false } }
    }

    /// Since when the open connection has been offered to statements; nil while there is none,
    /// and as soon as it has closed (before the connection loop hears of it). A later instant than
    /// one remembered means the connection was made again since.
    public var connectedSince: ContinuousClock.Instant? {
        state.withLock { state in
            guard case .available(let connection, let since) = state, !connection.connection.isClosed else { return nil }
            return since
        }
    }

    /// Why no statement can run now, for a person ("the coordination database cannot be used:
    /// postgres://…: connection refused"); nil while the connection is open.
    public var problem: String? {
        if case .failure(let unavailable) = current() { unavailable.reason } else { nil }
    }

    /// The open connection, or why there is none (the one place the state is put in words).
    private func current() -> Result<CoordinationConnection, CoordinationUnavailable> {
        state.withLock { state in
            switch state {
            case .available(let connection, _): .success(connection)
            case .connecting(let failure?): .failure(CoordinationUnavailable(reason: "the coordination database cannot be used: \(failure)"))
            case .connecting(nil): .failure(CoordinationUnavailable(reason: "connecting to the coordination database \(settings.endpoint)"))
            case .stopped: .failure(CoordinationUnavailable(reason: "the server is shutting down"))
            }
        }
    }

    /// Waits, at most `timeout`, for the connection to be open and migrated; whether it is.
    public func waitUntilAvailable(within timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !isAvailable {
            guard ContinuousClock.now < deadline, (try? await Task.sleep(for: .milliseconds(10))) != nil else { return false }
        }
        return true
    }

    /// Waits while the first connection attempt is under way (a statement asked as the server
    /// starts waits for it, instead of failing for a connection that is being made); at most as
    /// long as an attempt can take: the connect timeout and the migration's bound.
    private func waitForFirstAttempt() async {
        let deadline = ContinuousClock.now + settings.attemptLimit
        while state.withLock({ if case .connecting(nil) = $0 { true } else { false } }) {
            guard ContinuousClock.now < deadline, (try? await Task.sleep(for: .milliseconds(5))) != nil else { return }
        }
    }

    /// Runs `body` while each of `databases` keeps its connection (its ``run()`` in a child task,
    /// for a tool or a test that has no service group); cancels them, and waits for them, after.
    public static func whileRunning<T: Sendable>(
        _ databases: [CoordinationDatabase], _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            for database in databases { group.addTask { try await database.run(); return nil } }
            defer { group.cancelAll() }
            let result = try await body()
            group.cancelAll()
            while try await group.next() != nil {}
            return result
        }
    }

    /// Keeps the connection until the service group shuts down.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.maintain()
        }
        let last = state.withLock { state -> CoordinationConnection? in
            defer { state = .stopped }
            if case .available(let connection, _) = state { return connection }
            return nil
        }
        try? await last?.connection.close()
    }

    private func maintain() async {
        while !Task.isCancelled {
            do {
                let connection = CoordinationConnection(connection: try await connect(), logger: logger)
                do {
                    try await connection.bounded(by: settings.statementTimeout * 4) { [logger] connection in
                        try await CoordinationSchema.migrate(connection, logger: logger)
                    }
                } catch {
                    try? await connection.connection.close()
                    throw error
                }
                // Listening before the connection is offered: no statement runs before the LISTEN.
                listeners.withLock { listeners in
                    for (channel, handler) in listeners { connection.listen(on: channel, handler) }
                    state.withLock { $0 = .available(connection, since: .now) }
                }
                observer?.connectionChanged(available: true)
                logger.info("coordination: connected to \(settings.endpoint)")
                await waitForClose(of: connection)
                let reason = "the connection to \(settings.endpoint) closed"
                state.withLock { if case .available = $0 { $0 = .connecting(lastFailure: reason) } }
                observer?.connectionChanged(available: false)
                if !Task.isCancelled { logger.warning("coordination: \(reason); connecting again") }
            } catch {
                let reason = Self.describe(error, settings: settings)
                let first = state.withLock { state -> Bool in
                    if case .connecting(let last) = state, last == reason { return false }
                    state = .connecting(lastFailure: reason)
                    return true
                }
                if first { observer?.connectionChanged(available: false) }
                if first && !Task.isCancelled { logger.error("coordination: \(reason); no request starts until it answers") }
            }
            try? await Task.sleep(for: settings.reconnectDelay)
        }
    }

    private func connect() async throws -> PostgresConnection {
        let settings = self.settings
        let tls = try await files.run { () throws(CoordinationTLS.Problem) in try CoordinationTLS.configuration(for: settings) }
        var configuration = PostgresConnection.Configuration(
            host: settings.host, port: settings.port, username: settings.username, password: settings.password,
            database: settings.database, tls: tls)
        configuration.options.connectTimeout = .milliseconds(settings.connectTimeout.wholeMilliseconds)
        let timeout = "\(settings.statementTimeout.wholeMilliseconds)"
        configuration.options.additionalStartupParameters = [
            ("application_name", settings.applicationName),
            ("statement_timeout", timeout),
            ("lock_timeout", timeout),
        ]
        let id = connectionIDs.add(1, ordering: .relaxed).newValue
        return try await PostgresConnection.connect(
            on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration, id: id, logger: logger)
    }

    private func waitForClose(of connection: CoordinationConnection) async {
        await withTaskCancellationHandler {
            try? await connection.connection.closeFuture.get()
        } onCancel: {
            connection.drop()
        }
    }

    /// Runs `body` on the open connection; throws ``CoordinationUnavailable`` when there is none,
    /// when `body` fails, or when it takes longer than the statement timeout and a second (then
    /// the connection is closed, and made again). ``observer`` is told how `statement` ended.
    @discardableResult
    public func withConnection<T: Sendable>(
        _ statement: CoordinationStatement = .other,
        _ body: @escaping @Sendable (CoordinationConnection) async throws -> T
    ) async throws(CoordinationUnavailable) -> T {
        await waitForFirstAttempt()
        let connection: CoordinationConnection
        switch current() {
        case .success(let open): connection = open
        case .failure(let unavailable):
            observer?.statementEnded(statement, duration: .zero, failure: .notConnected)
            throw unavailable
        }
        let limit = settings.statementTimeout + .seconds(1)
        let start = ContinuousClock.now
        do {
            let value = try await connection.bounded(by: limit, body)
            observer?.statementEnded(statement, duration: ContinuousClock.now - start, failure: nil)
            return value
        } catch {
            let failure: CoordinationFailure = error is CoordinationConnection.Overdue ? .timedOut : .failed
            observer?.statementEnded(statement, duration: ContinuousClock.now - start, failure: failure)
            throw CoordinationUnavailable(reason: Self.describe(error, settings: settings))
        }
    }

    /// What went wrong, for a person: PostgreSQL's own message when it sent one; never a password
    /// (PostgresNIO's errors do not hold it, and the endpoint omits it).
    static func describe(_ error: any Error, settings: CoordinationSettings) -> String {
        let endpoint = settings.endpoint
        if let tls = describeTLS(error, settings: settings) { return "\(endpoint): \(tls)" }
        if let error = error as? CoordinationSchemaError { return error.message }
        if let problem = error as? CoordinationTLS.Problem { return "\(endpoint): \(problem.message)" }
        if let overdue = error as? CoordinationConnection.Overdue { return "\(endpoint) did not answer within \(overdue.limit)" }
        if error is CoordinationConnection.Closed { return "\(endpoint): the connection closed" }
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] {
                let code = error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
                return "\(endpoint): \(message)\(code)"
            }
            if error.code == .connectionError, let underlying = error.underlying {
                if let channel = underlying as? ChannelError, case .connectTimeout(let limit) = channel {
                    return "\(endpoint): no answer to the PostgreSQL handshake within \(limit.nanoseconds / 1_000_000) ms (is it a PostgreSQL server?)"
                }
                return "\(endpoint): cannot connect: \(underlying)"
            }
            if error.code == .serverClosedConnection { return "\(endpoint): the server closed the connection" }
            if error.code == .sslUnsupported { return "\(endpoint): the server does not offer TLS, which this sslmode requires" }
            if let underlying = error.underlying { return "\(endpoint): \(error.code): \(underlying)" }
            return "\(endpoint): \(error.code)"
        }
        if let error = error as? ChannelError, case .connectTimeout = error { return "\(endpoint): connection timed out" }
        return "\(endpoint): \(String(describing: error))"
    }

    /// A TLS handshake's failure (PostgresNIO's connection error holds NIOSSL's), for a person:
    /// which check the server's certificate failed; nil when `error` is not one.
    static func describeTLS(_ error: any Error, settings: CoordinationSettings) -> String? {
        let host = settings.host
        if let error = error as? PSQLError { return error.underlying.flatMap { describeTLS($0, settings: settings) } }
        if let error = error as? NIOSSLExtraError, error == .failedToValidateHostname {
            return "the server's certificate does not name \(host) (sslmode=verify-full checks that it does)"
        }
        if let error = error as? BoringSSLError { return describeTLSAlert(error, sentCertificate: settings.clientCertificateFile != nil) }
        guard let error = error as? NIOSSLError else { return nil }
        let text = String(describing: error)
        if text.contains("CERTIFICATE_VERIFY_FAILED") {
            return "TLS handshake failed: the database's certificate could not be verified against sslrootcert (else the system's roots): signed by another authority, expired or not yet valid"
        }
        if case .handshakeFailed = error { return "TLS handshake failed: \(text.prefix(300))" }
        return "TLS failed: \(text.prefix(300))"
    }

    /// BoringSSL's error after the handshake's last message: the database's alert, by its name
    /// (an unknown authority, "TLSV1_ALERT_UNKNOWN_CA", means it refused this server's certificate).
    static func describeTLSAlert(_ error: BoringSSLError, sentCertificate: Bool) -> String {
        let text = String(describing: error)
        guard let name = text.firstMatch(of: /OPENSSL_internal:([A-Z0-9_]+)/)?.output.1 else { return "TLS failed: \(text.prefix(300))" }
        switch name {
        case "TLSV1_ALERT_UNKNOWN_CA":
            return "the database refused this server's client certificate (sslcert): no authority it trusts (its ssl_ca_file) signed it (TLS alert \(name))"
        case let alert where alert.contains("_ALERT_"):
            return "the database ended the TLS handshake with alert \(alert)\(sentCertificate ? " (likely about this server's client certificate, sslcert)" : "")"
        default:
            return "TLS failed: \(name)"
        }
    }
}
