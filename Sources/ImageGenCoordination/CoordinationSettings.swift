import Foundation

/// Where the coordination database is and how to talk to it, from a `postgres://` URL
/// (`--coordination`, `IMAGEGEN_DATABASE_URL`):
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=MODE[&sslrootcert=FILE][&sslcert=FILE&sslkey=FILE]]`.
/// The password is kept for the connection only: ``endpoint`` (logs, status, errors) never shows it.
public struct CoordinationSettings: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    /// Whether and how the connection is encrypted (`sslmode`).
    public var tlsMode: CoordinationTLSMode = .disable
    /// The PEM file of the certificates that may sign the server's (`sslrootcert`); read at each
    /// connection attempt, so a rotated file is used from the next reconnection on.
    public var rootCertificateFile: String?
    /// The PEM file of this server's client certificate (`sslcert`, with ``clientKeyFile``), for a
    /// database that authenticates its clients by certificate (pg_hba's `cert` or `clientcert`).
    public var clientCertificateFile: String?
    /// The PEM file of the client certificate's private key (`sslkey`): unencrypted, and readable
    /// by its owner only (mode 0600, or 0640 when root owns it), as libpq requires.
    public var clientKeyFile: String?
    /// How long a connection attempt may take.
    public var connectTimeout: Duration = .seconds(2)
    /// How long one statement may run or wait for a lock before the server gives up on it (the
    /// database says so and the request start is held, never made without the database).
    public var statementTimeout: Duration = .seconds(2)
    /// How long the server waits before it connects again after the database went away.
    public var reconnectDelay: Duration = .milliseconds(500)
    /// Sent as `application_name`: which server a session in `pg_stat_activity` belongs to.
    public var applicationName = "imagegen"

    /// The longest a connection attempt, the schema's migration included, may take: how long a
    /// statement asked while the first attempt is under way waits for it.
    public var attemptLimit: Duration { connectTimeout + statementTimeout * 4 }

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
        self.init(
            host: host, port: port, username: user.removingPercentEncoding ?? user,
            password: components.password?.removingPercentEncoding, database: database)
        try applyParameters(components.queryItems ?? [])
    }

    /// The URL's `sslmode`, `sslrootcert`, `sslcert` and `sslkey`; any other parameter, or one
    /// given twice, is an error.
    private mutating func applyParameters(_ items: [URLQueryItem]) throws(CoordinationSettingsError) {
        var seen: Set<String> = []
        for item in items {
            let name = String(item.name.prefix(40))
            guard seen.insert(item.name).inserted else { throw CoordinationSettingsError("gives \(name) twice") }
            let value = item.value ?? ""
            switch item.name {
            case "sslmode":
                guard let mode = CoordinationTLSMode(rawValue: value) else {
                    let modes = CoordinationTLSMode.allCases.map(\.rawValue).joined(separator: ", ")
                    throw CoordinationSettingsError("sslmode \"\(value.prefix(40))\" is not one of \(modes)")
                }
                tlsMode = mode
            case "sslrootcert": rootCertificateFile = try Self.absolutePath(value, of: name)
            case "sslcert": clientCertificateFile = try Self.absolutePath(value, of: name)
            case "sslkey": clientKeyFile = try Self.absolutePath(value, of: name)
            default:
                throw CoordinationSettingsError("parameter \"\(name)\" is not supported (only sslmode, sslrootcert, sslcert and sslkey are)")
            }
        }
        try checkTLSFilesAgreeWithMode()
    }

    /// A file parameter's value: an absolute path (a relative one would depend on where the server starts).
    private static func absolutePath(_ value: String, of name: String) throws(CoordinationSettingsError) -> String {
        guard value.hasPrefix("/") else {
            throw CoordinationSettingsError("\(name) must be an absolute path to a PEM file, got \"\(value.prefix(80))\"")
        }
        return value
    }

    private func checkTLSFilesAgreeWithMode() throws(CoordinationSettingsError) {
        if rootCertificateFile == nil, tlsMode == .verifyCA {
            throw CoordinationSettingsError(
                "gives sslmode=verify-ca but no sslrootcert: the authority that signs the database's certificate must be named (or use verify-full, which also checks the host name against the system's roots)")
        }
        if (clientCertificateFile == nil) != (clientKeyFile == nil) {
            throw CoordinationSettingsError(
                clientKeyFile == nil ? "gives sslcert but no sslkey: the client certificate's private key must be named too" : "gives sslkey but no sslcert: the client certificate must be named too")
        }
        if tlsMode == .disable, let name = rootCertificateFile != nil ? "sslrootcert" : clientCertificateFile != nil ? "sslcert" : nil {
            throw CoordinationSettingsError("gives \(name) but no sslmode that uses TLS (prefer, require, verify-ca or verify-full)")
        }
    }

    /// "postgres://imagegen@127.0.0.1:5432/imagegen": where it connects, without the password
    /// (and its TLS mode when it uses TLS: "…/imagegen?sslmode=verify-full").
    public var endpoint: String {
        let plain = "postgres://\(username)@\(host):\(port)/\(database)"
        return tlsMode == .disable ? plain : "\(plain)?sslmode=\(tlsMode.rawValue)"
    }
}
