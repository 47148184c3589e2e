import Foundation
import ImageGenCoordination
import ImageGenEngine
import ImageGenTestSupport
import Testing

/// TLS to the coordination database, against a real PostgreSQL with TLS on (its certificate,
/// made for the test, names IP 127.0.0.1 only; the server also listens on 127.0.0.2, which the
/// certificate does not name: on Linux all of 127/8 is loopback, and a connection to 127.0.0.2
/// comes from 127.0.0.1, which the cluster's pg_hba trusts) and one with TLS off: each `sslmode` connects, encrypted or not, or
/// is refused with a reason naming the check that failed.
@Suite(.timeLimit(.minutes(2)), .hangWatchdog)
struct DatabaseTLSTests {
    /// How a connection attempt should end.
    enum Expected: Equatable {
        /// Connected; whether the session is encrypted (`pg_stat_ssl`).
        case connects(encrypted: Bool)
        /// Refused; the reason holds this.
        case refused(containing: String)
    }

    /// One row of the matrix: the URL's host, parameters, and which root certificate file.
    struct Case: CustomStringConvertible {
        enum Root { case none, authority, otherAuthority, missing, notPEM, directory, fifo }
        let host: String
        let mode: String?
        let root: Root
        let expected: Expected

        var description: String { "\(host) sslmode=\(mode ?? "-") root=\(root)" }
    }

    static let tlsServerCases: [Case] = [
        Case(host: "127.0.0.1", mode: nil, root: .none, expected: .connects(encrypted: false)),
        Case(host: "127.0.0.1", mode: "disable", root: .none, expected: .connects(encrypted: false)),
        Case(host: "127.0.0.1", mode: "prefer", root: .none, expected: .connects(encrypted: true)),
        // require checks nothing without a root file, as libpq's does ...
        Case(host: "127.0.0.1", mode: "require", root: .none, expected: .connects(encrypted: true)),
        // ... and checks the chain with one.
        Case(host: "127.0.0.1", mode: "require", root: .otherAuthority, expected: .refused(containing: "TLS handshake failed: the database's certificate could not be verified against sslrootcert (else the system's roots)")),
        Case(host: "127.0.0.1", mode: "verify-ca", root: .authority, expected: .connects(encrypted: true)),
        Case(host: "127.0.0.1", mode: "verify-full", root: .authority, expected: .connects(encrypted: true)),
        // The certificate does not name 127.0.0.2: the chain is enough for verify-ca, not for verify-full.
        Case(host: "127.0.0.2", mode: "verify-ca", root: .authority, expected: .connects(encrypted: true)),
        Case(host: "127.0.0.2", mode: "verify-full", root: .authority, expected: .refused(containing: "the server's certificate does not name 127.0.0.2")),
        Case(host: "127.0.0.1", mode: "verify-full", root: .otherAuthority, expected: .refused(containing: "could not be verified against sslrootcert")),
        // Without a root file verify-full uses the system's roots, and they did not sign a test's authority.
        Case(host: "127.0.0.1", mode: "verify-full", root: .none, expected: .refused(containing: "could not be verified against sslrootcert")),
        // prefer with a root file checks the chain when the server offers TLS.
        Case(host: "127.0.0.1", mode: "prefer", root: .otherAuthority, expected: .refused(containing: "could not be verified against sslrootcert")),
        Case(host: "127.0.0.1", mode: "prefer", root: .authority, expected: .connects(encrypted: true)),
        Case(host: "127.0.0.1", mode: "verify-full", root: .missing, expected: .refused(containing: "cannot read it: No such file or directory")),
        Case(host: "127.0.0.1", mode: "verify-full", root: .notPEM, expected: .refused(containing: "holds no PEM certificate")),
        Case(host: "127.0.0.1", mode: "verify-full", root: .directory, expected: .refused(containing: "not a regular file")),
        // A FIFO no one writes to would block a read: refused without one.
        Case(host: "127.0.0.1", mode: "verify-full", root: .fifo, expected: .refused(containing: "not a regular file")),
    ]

    static let plainServerCases: [Case] = [
        Case(host: "127.0.0.1", mode: "prefer", root: .none, expected: .connects(encrypted: false)),
        Case(host: "127.0.0.1", mode: "require", root: .none, expected: .refused(containing: "the server does not offer TLS, which this sslmode requires")),
        Case(host: "127.0.0.1", mode: "verify-full", root: .authority, expected: .refused(containing: "the server does not offer TLS")),
    ]

    @Test func eachSSLModeConnectsOrSaysWhichCheckFailed() async throws {
        try await Self.withCertificates { scratch, certificates in
            let notPEM = scratch.appendingPathComponent("not-a-certificate.pem")
            try Data("this is not a certificate\n".utf8).write(to: notPEM)
            let files = RootFiles(certificates: certificates, notPEM: notPEM, missing: scratch.appendingPathComponent("absent.pem"))
            #expect(mkfifo(try #require(files.path(.fifo)), 0o600) == 0)

            // verify-ca names no root file: refused before any connection (CoordinationSettingsTests).
            try await PostgresCluster.with(tls: certificates, alsoListeningOn: ["127.0.0.2"]) { cluster in
                for check in Self.tlsServerCases { try await Self.verify(check, port: cluster.port, files: files) }
            }
            try await PostgresCluster.with { cluster in
                for check in Self.plainServerCases { try await Self.verify(check, port: cluster.port, files: files) }
            }
        }
    }

    /// One row of the client certificate matrix: whose certificate (none: no sslcert and sslkey)
    /// and which key file goes with it.
    struct ClientCase: CustomStringConvertible {
        enum Key { case matching, strangers, readableByOthers, encrypted, aCertificate }
        let certificate: TestCertificates.Client?
        let key: Key
        let expected: Expected

        var description: String { "sslcert=\(certificate.map(\.rawValue) ?? "-") sslkey=\(key)" }
    }

    static let clientCases: [ClientCase] = [
        ClientCase(certificate: .user, key: .matching, expected: .connects(encrypted: true)),
        // PostgreSQL's own refusals, passed on.
        ClientCase(certificate: nil, key: .matching, expected: .refused(containing: "connection requires a valid client certificate (SQLSTATE 28000)")),
        ClientCase(certificate: .stranger, key: .matching, expected: .refused(containing: "certificate authentication failed for user \"certified\"")),
        ClientCase(certificate: .unknownAuthority, key: .matching, expected: .refused(containing: "the database refused this server's client certificate (sslcert): no authority it trusts (its ssl_ca_file) signed it (TLS alert TLSV1_ALERT_UNKNOWN_CA)")),
        // Files refused before any connection is made.
        ClientCase(certificate: .user, key: .strangers, expected: .refused(containing: "stranger.key is not the key of the certificate in sslcert ")),
        ClientCase(certificate: .user, key: .readableByOthers, expected: .refused(containing: "(mode 644); make it mode 600 (chmod 600), as libpq requires")),
        ClientCase(certificate: .user, key: .encrypted, expected: .refused(containing: "the key is encrypted, and a passphrase is not supported")),
        ClientCase(certificate: .user, key: .aCertificate, expected: .refused(containing: "holds no PEM private key")),
    ]

    /// A database that signs ``TestCertificates/clientUser`` in by client certificate (pg_hba's
    /// `cert`): `sslcert` and `sslkey` sign the server in; a missing, unknown or stranger's
    /// certificate is refused by PostgreSQL, in its words; a key that is not the certificate's, is
    /// readable by others, is encrypted or is not a key is refused before a connection is tried,
    /// naming the file. The same files stop a server at start (``ProofTests``).
    @Test func aClientCertificateSignsInOrIsRefusedSayingWhy() async throws {
        try await Self.withCertificates { scratch, certificates in
            let keys = try ClientKeys.make(in: scratch, certificates: certificates)
            try await PostgresCluster.with(tls: certificates) { cluster in
                for check in Self.clientCases {
                    var parameters = ["sslmode=verify-full", "sslrootcert=\(certificates.authority.path)"]
                    if let client = check.certificate {
                        parameters += ["sslcert=\(certificates.certificate(of: client).path)", "sslkey=\(keys.path(check.key, of: client).path)"]
                    }
                    let url = "postgres://\(TestCertificates.clientUser)@127.0.0.1:\(cluster.port)/postgres?\(parameters.joined(separator: "&"))"
                    try await Self.verify(check.description, url: url, expected: check.expected)
                }
            }
        }
    }

    /// The key files of the client matrix, beside the certificates.
    struct ClientKeys {
        let certificates: TestCertificates
        let directory: URL

        static func make(in scratch: URL, certificates: TestCertificates) throws -> ClientKeys {
            let keys = ClientKeys(certificates: certificates, directory: scratch)
            let source = certificates.key(of: .user)
            try FileManager.default.copyItem(at: source, to: keys.path(.readableByOthers))
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: keys.path(.readableByOthers).path)
            try FileManager.default.copyItem(at: certificates.certificate(of: .user), to: keys.path(.aCertificate))
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: keys.path(.aCertificate).path)
            return keys
        }

        func path(_ key: ClientCase.Key, of client: TestCertificates.Client = .user) -> URL {
            switch key {
            case .matching: certificates.key(of: client)
            case .strangers: certificates.key(of: .stranger)
            case .readableByOthers: directory.appendingPathComponent("readable.key")
            case .encrypted: certificates.encryptedClientKey
            case .aCertificate: directory.appendingPathComponent("certificate-as.key")
            }
        }
    }

    /// A root file replaced while the server runs (a rotated authority) is read at the next
    /// connection attempt: the server that could not verify the database connects without a restart.
    @Test func aReplacedRootFileIsUsedAtTheNextAttempt() async throws {
        try await Self.withCertificates { scratch, certificates in
            let root = scratch.appendingPathComponent("root.pem")
            try FileManager.default.copyItem(at: certificates.otherAuthority, to: root)
            try await PostgresCluster.with(tls: certificates) { cluster in
                var settings = try CoordinationSettings(
                    url: "postgres://imagegen@127.0.0.1:\(cluster.port)/postgres?sslmode=verify-full&sslrootcert=\(root.path)")
                settings.reconnectDelay = .milliseconds(100)
                let database = CoordinationDatabase(settings: settings, logger: CoordinationRig.logger)
                try await CoordinationDatabase.whileRunning([database]) {
                    let before = try await Self.outcome(of: database, expecting: .refused(containing: "could not be verified against sslrootcert"))
                    guard case .refused(let reason) = before, reason.contains("could not be verified against sslrootcert") else {
                        Issue.record("before the root file was replaced: \(before)")
                        return
                    }
                    try Data(contentsOf: certificates.authority).write(to: root, options: .atomic)
                    #expect(await database.waitUntilAvailable(within: .seconds(10)), "\(database.problem ?? "")")
                }
            }
        }
    }

    /// Runs `body` with a scratch directory holding new ``TestCertificates``; removes it after.
    static func withCertificates(_ body: (URL, TestCertificates) async throws -> Void) async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("imagegen-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        try await body(scratch, try await TestCertificates.make(in: scratch))
    }

    /// How `database`'s attempts end: connected (then whether its session is encrypted), or the
    /// reason it gives once it gives the one expected (an attempt on a loaded machine may first
    /// time out; the database tries again every 100 ms), else the last reason within 20 s.
    static func outcome(of database: CoordinationDatabase, expecting expected: Expected) async throws -> Expected {
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if database.isAvailable {
                do throws(CoordinationUnavailable) {
                    let encrypted = try await database.withConnection { connection in
                        try await connection.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").first?.decode(Bool.self)
                    }
                    return encrypted.map { .connects(encrypted: $0) } ?? .refused(containing: "pg_stat_ssl has no row for the session")
                } catch {
                    return .refused(containing: error.reason)
                }
            }
            if case .refused(let part) = expected, let problem = database.problem, problem.contains(part) {
                return .refused(containing: problem)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return .refused(containing: database.problem ?? "no connection within 20 s")
    }

    struct RootFiles {
        let certificates: TestCertificates
        let notPEM: URL
        let missing: URL

        func path(_ root: Case.Root) -> String? {
            switch root {
            case .none: nil
            case .authority: certificates.authority.path
            case .otherAuthority: certificates.otherAuthority.path
            case .missing: missing.path
            case .notPEM: notPEM.path
            case .directory: notPEM.deletingLastPathComponent().path
            case .fifo: notPEM.deletingLastPathComponent().appendingPathComponent("root.fifo").path
            }
        }
    }

    static func verify(_ check: Case, port: Int, files: RootFiles) async throws {
        var parameters = check.mode.map { ["sslmode=\($0)"] } ?? []
        if let root = files.path(check.root) { parameters.append("sslrootcert=\(root)") }
        let query = parameters.isEmpty ? "" : "?" + parameters.joined(separator: "&")
        try await verify(check.description, url: "postgres://imagegen@\(check.host):\(port)/postgres\(query)", expected: check.expected)
    }

    /// Connects to `url` and checks the outcome against `expected`: a refusal's reason holds the
    /// expected part, starts with the endpoint, and is bounded.
    static func verify(_ name: String, url: String, expected: Expected) async throws {
        var settings = try CoordinationSettings(url: url)
        settings.reconnectDelay = .milliseconds(100)
        let database = CoordinationDatabase(settings: settings, logger: CoordinationRig.logger)
        let outcome = try await CoordinationDatabase.whileRunning([database]) { () -> Expected in
            try await Self.outcome(of: database, expecting: expected)
        }
        print("tls \(name): \(outcome)")
        switch (expected, outcome) {
        case (.refused(let part), .refused(let reason)):
            #expect(reason.contains(part), "\(name): \(reason)")
            #expect(reason.hasPrefix("the coordination database cannot be used: \(settings.endpoint): "), "\(name): \(reason)")
            #expect(reason.utf8.count <= 600, "\(name): \(reason.utf8.count) bytes")
        default:
            #expect(outcome == expected, "\(name)")
        }
    }
}
