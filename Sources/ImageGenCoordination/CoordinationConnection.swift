import NIOCore
public import PostgresNIO
import Logging

/// An open connection to the coordination database, as statements use it. A statement is
/// handed to PostgresNIO on the connection's event loop, and only while the connection is open:
/// PostgresNIO (1.33) loses a statement written to a connection that has just closed (its
/// answer never comes and cancellation does not end the wait; vapor/postgres-nio#487, reverted
/// in #501), and on the event loop an open connection still has the handler that answers it, or
/// fails it when the connection closes afterwards.
public struct CoordinationConnection: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    /// The connection closed before the statement could be sent.
    struct Closed: Error {}

    /// A statement, or a group of them, took longer than it was given.
    struct Overdue: Error {
        let limit: Duration
    }

    /// Runs one statement and returns its rows (a coordination statement answers a row or two).
    @discardableResult
    public func query(_ query: PostgresQuery, file: String = #fileID, line: Int = #line) async throws -> [PostgresRow] {
        let connection = self.connection
        let logger = self.logger
        let result = try await connection.eventLoop.flatSubmit { () -> EventLoopFuture<PostgresQueryResult> in
            guard !connection.isClosed else { return connection.eventLoop.makeFailedFuture(Closed()) }
            return connection.query(query, logger: logger, file: file, line: line)
        }.get()
        return result.rows
    }

    /// Hands every notification on `channel` (`pg_notify`) to `handler`, on the connection's event
    /// loop, while the connection is open. PostgresNIO sends the `LISTEN` ahead of any statement
    /// asked after this (both go through the event loop, in order).
    func listen(on channel: String, _ handler: @escaping @Sendable (String) -> Void) {
        let connection = self.connection
        connection.eventLoop.execute {
            guard !connection.isClosed else { return }
            connection.addListener(channel: channel) { _, notification in handler(notification.payload) }
        }
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    public func transaction<T: Sendable>(_ body: (CoordinationConnection) async throws -> T) async throws -> T {
        try await query("BEGIN")
        let value: T
        do {
            value = try await body(self)
        } catch {
            _ = try? await query("ROLLBACK")
            throw error
        }
        try await query("COMMIT")
        return value
    }

    /// Runs `body`, and closes the connection when it has not returned within `limit` (which
    /// fails the statement it waits for: nothing here waits on a connection that does not answer).
    func bounded<T: Sendable>(
        by limit: Duration, _ body: @escaping @Sendable (CoordinationConnection) async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask { try await body(self) }
            group.addTask {
                try await Task.sleep(for: limit)
                self.drop()
                throw Overdue(limit: limit)
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { throw CancellationError() }
            return first
        }
    }

    /// Closes the connection without waiting for it; statements waiting on it fail.
    func drop() {
        let closed: EventLoopFuture<Void> = connection.close()
        closed.whenComplete { _ in }
    }
}
