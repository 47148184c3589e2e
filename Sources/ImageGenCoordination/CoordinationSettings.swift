import Foundation

/// Where the coordination database is and how to talk to it, from a `postgres://` URL
/// (`--coordination`, `IMAGEGEN_DATABASE_URL`): `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`.
/// The password is kept for the connection only: ``endpoint`` (logs, status, errors) never shows it.
public struct CoordinationSettings: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    /// How long a connection attempt may take.
    public var connectTimeout: Duration = .seconds(2)
    /// How long one statement may run or wait for a lock before the server gives up on it (the
    /// database says so and the request start is held, never made without the database).
    public var statementTimeout: Duration = .seconds(2)
    /// How long the server waits before it connects again after the database went away.
    public var reconnectDelay: Duration = .milliseconds(500)
    /// Sent as `application_name`: which server a session in `pg_stat_activity` belongs to.
    public var applicationName = "imagegen"

    public init(host: String, port: Int = 5432, username: String, password: String? = nil, database: String) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
    }

    /// Parses a `postgres://` (or `postgresql://`) URL; the error names what is wrong and never
    /// repeats the password.
    public init(url text: String) throws(CoordinationSettingsError) {
        guard let components = URLComponents(string: text),
            let scheme = components.scheme?.lowercased(), ["postgres", "postgresql"].contains(scheme)
        else {
            throw CoordinationSettingsError("must be a URL like postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE")
        }
        guard let host = components.host, !host.isEmpty else { throw CoordinationSettingsError("names no host") }
        guard let user = components.user, !user.isEmpty else { throw CoordinationSettingsError("names no user") }
        let port = components.port ?? 5432
        guard (1...65_535).contains(port) else { throw CoordinationSettingsError("port \(port) is not from 1 to 65535") }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else {
            throw CoordinationSettingsError("names no database (postgres://USER@HOST:PORT/DATABASE)")
        }
        if let query = components.query, !query.isEmpty {
            throw CoordinationSettingsError("takes no query parameters (TLS and options are not supported yet)")
        }
        self.init(
            host: host, port: port, username: user.removingPercentEncoding ?? user,
            password: components.password?.removingPercentEncoding, database: database)
    }

    /// "postgres://imagegen@127.0.0.1:5432/imagegen": where it connects, without the password.
    public var endpoint: String { "postgres://\(username)@\(host):\(port)/\(database)" }
}
