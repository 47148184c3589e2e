import Foundation
import ImageGenCoordination
import ImageGenEngine
import ImageGenTestSupport
import Testing

/// TLS to the coordination database, against a real PostgreSQL with TLS on (its certificate,
/// made for the test, names IP 127.0.0.1 only; the server also listens on 127.0.0.2, which the
/// certificate does not name) and one with TLS off: each `sslmode` connects, encrypted or not, or
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
        enum Root { case none, authority, otherAuthority, missing, notPEM }
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
        Case(host: "127.0.0.1", mode: "require", root: .otherAuthority, expected: .refused(containing: "TLS handshake failed: the server's certificate is not signed by a root this server trusts")),
        Case(host: "127.0.0.1", mode: "verify-ca", root: .authority, expected: .connects(encrypted: true)),
        Case(host: "127.0.0.1", mode: "verify-full", root: .authority, expected: .connects(encrypted: true)),
        // The certificate does not name 127.0.0.2: the chain is enough for verify-ca, not for verify-full.
        Case(host: "127.0.0.2", mode: "verify-ca", root: .authority, expected: .connects(encrypted: true)),
        Case(host: "127.0.0.2", mode: "verify-full", root: .authority, expected: .refused(containing: "the server's certificate does not name 127.0.0.2")),
        Case(host: "127.0.0.1", mode: "verify-full", root: .otherAuthority, expected: .refused(containing: "not signed by a root this server trusts")),
        // Without a root file the system's roots are used, and they did not sign a test's authority.
        Case(host: "127.0.0.1", mode: "verify-ca", root: .none, expected: .refused(containing: "not signed by a root this server trusts")),
        Case(host: "127.0.0.1", mode: "verify-full", root: .missing, expected: .refused(containing: "cannot read it: No such file or directory")),
        Case(host: "127.0.0.1", mode: "verify-full", root: .notPEM, expected: .refused(containing: "holds no PEM certificate")),
    ]

    static let plainServerCases: [Case] = [
        Case(host: "127.0.0.1", mode: "prefer", root: .none, expected: .connects(encrypted: false)),
        Case(host: "127.0.0.1", mode: "require", root: .none, expected: .refused(containing: "the server does not offer TLS, which this sslmode requires")),
        Case(host: "127.0.0.1", mode: "verify-full", root: .authority, expected: .refused(containing: "the server does not offer TLS")),
    ]

    @Test func eachSSLModeConnectsOrSaysWhichCheckFailed() async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("imagegen-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let certificates = try await TestCertificates.make(in: scratch)
        let notPEM = scratch.appendingPathComponent("not-a-certificate.pem")
        try Data("this is not a certificate\n".utf8).write(to: notPEM)
        let files = RootFiles(certificates: certificates, notPEM: notPEM, missing: scratch.appendingPathComponent("absent.pem"))

        try await PostgresCluster.with(tls: certificates, alsoListeningOn: ["127.0.0.2"]) { cluster in
            for check in Self.tlsServerCases { try await Self.verify(check, port: cluster.port, files: files) }
        }
        try await PostgresCluster.with { cluster in
            for check in Self.plainServerCases { try await Self.verify(check, port: cluster.port, files: files) }
        }
    }

    /// A root file replaced while the server runs (a rotated authority) is read at the next
    /// connection attempt: the server that could not verify the database connects without a restart.
    @Test func aReplacedRootFileIsUsedAtTheNextAttempt() async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("imagegen-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let certificates = try await TestCertificates.make(in: scratch)
        let root = scratch.appendingPathComponent("root.pem")
        try FileManager.default.copyItem(at: certificates.otherAuthority, to: root)
        try await PostgresCluster.with(tls: certificates) { cluster in
            var settings = try CoordinationSettings(
                url: "postgres://imagegen@127.0.0.1:\(cluster.port)/postgres?sslmode=verify-full&sslrootcert=\(root.path)")
            settings.reconnectDelay = .milliseconds(100)
            let database = CoordinationDatabase(settings: settings, logger: CoordinationRig.logger)
            try await CoordinationDatabase.whileRunning([database]) {
                do throws(CoordinationUnavailable) {
                    try await database.withConnection { _ in }
                    Issue.record("connected with a root that did not sign the server's certificate")
                } catch {
                    #expect(error.reason.contains("not signed by a root this server trusts"), "\(error.reason)")
                }
                #expect(database.problem?.contains("not signed by a root this server trusts") == true, "\(database.problem ?? "no problem")")
                try Data(contentsOf: certificates.authority).write(to: root, options: .atomic)
                #expect(await database.waitUntilAvailable(within: .seconds(10)), "\(database.problem ?? "")")
            }
        }
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
            }
        }
    }

    static func verify(_ check: Case, port: Int, files: RootFiles) async throws {
        var parameters = check.mode.map { ["sslmode=\($0)"] } ?? []
        if let root = files.path(check.root) { parameters.append("sslrootcert=\(root)") }
        let query = parameters.isEmpty ? "" : "?" + parameters.joined(separator: "&")
        var settings = try CoordinationSettings(url: "postgres://imagegen@\(check.host):\(port)/postgres\(query)")
        settings.reconnectDelay = .milliseconds(100)
        let database = CoordinationDatabase(settings: settings, logger: CoordinationRig.logger)
        let outcome = try await CoordinationDatabase.whileRunning([database]) { () -> Expected in
            do throws(CoordinationUnavailable) {
                let encrypted = try await database.withConnection { connection in
                    try await connection.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").first?.decode(Bool.self)
                }
                return .connects(encrypted: encrypted ?? false)
            } catch {
                return .refused(containing: error.reason)
            }
        }
        print("tls \(check): \(outcome)")
        switch (check.expected, outcome) {
        case (.refused(let part), .refused(let reason)):
            #expect(reason.contains(part), "\(check): \(reason)")
            #expect(reason.hasPrefix("the coordination database does not answer: \(settings.endpoint): "), "\(check): \(reason)")
            #expect(reason.utf8.count <= 600, "\(check): \(reason.utf8.count) bytes")
        default:
            #expect(outcome == check.expected, "\(check)")
        }
    }
}
