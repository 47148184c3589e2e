public import Foundation

/// A certificate authority and a server certificate it signed, made for one test by the `openssl`
/// tool in a directory of their own: the server's names only IP 127.0.0.1. Also a second
/// authority (a root the server's certificate does not chain to), and client certificates for
/// PostgreSQL's `cert` authentication: ``clientUser``'s and a stranger's signed by the first
/// authority, and one for ``clientUser`` signed by the second.
public struct TestCertificates: Sendable {
    public let directory: URL

    /// The authority that signed the server's certificate (a PEM file).
    public var authority: URL { directory.appendingPathComponent("ca.crt") }
    /// An authority that signed nothing here.
    public var otherAuthority: URL { directory.appendingPathComponent("other-ca.crt") }
    /// The server's certificate and key (PEM; the key unencrypted, mode 0600).
    public var serverCertificate: URL { directory.appendingPathComponent("server.crt") }
    public var serverKey: URL { directory.appendingPathComponent("server.key") }

    /// The database user the client certificates are for (their subject's CN).
    public static let clientUser = "certified"
    /// Whose client certificate, signed by which authority.
    public enum Client: String, CaseIterable, Sendable {
        /// ``clientUser``'s, signed by ``authority``.
        case user = "client"
        /// CN=stranger, signed by ``authority``.
        case stranger
        /// ``clientUser``'s, signed by ``otherAuthority``.
        case unknownAuthority = "client-other-ca"
    }
    /// A client's certificate and key (PEM; the key unencrypted, mode 0600).
    public func certificate(of client: Client) -> URL { directory.appendingPathComponent("\(client.rawValue).crt") }
    public func key(of client: Client) -> URL { directory.appendingPathComponent("\(client.rawValue).key") }
    /// ``Client/user``'s key encrypted with the passphrase "secret" (PEM, mode 0600).
    public var encryptedClientKey: URL { directory.appendingPathComponent("client-encrypted.key") }

    /// Makes the files in a new directory under `parent`.
    public static func make(in parent: URL) async throws -> TestCertificates {
        let directory = parent.appendingPathComponent("certificates-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let certificates = TestCertificates(directory: directory)
        try await Blocking.run { try certificates.generate() }
        return certificates
    }

    private func generate() throws {
        let openssl = try Self.opensslPath()
        let dir = directory.path
        let curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        for name in ["ca", "other-ca"] {
            try Blocking.command(openssl, ["req", "-x509"] + curve + [
                "-keyout", "\(dir)/\(name).key", "-out", "\(dir)/\(name).crt", "-days", "2", "-subj", "/CN=imagegen test \(name)",
            ])
        }
        try issue(openssl, curve, name: "server", subject: "/CN=imagegen test database", by: "ca",
                  extensions: "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
        let clientExtensions = "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n"
        for (client, subject, authority) in [
            (Client.user, Self.clientUser, "ca"), (.stranger, "stranger", "ca"), (.unknownAuthority, Self.clientUser, "other-ca"),
        ] {
            try issue(openssl, curve, name: client.rawValue, subject: "/CN=\(subject)", by: authority, extensions: clientExtensions)
        }
        try Blocking.command(openssl, ["pkey", "-in", key(of: .user).path, "-aes256", "-passout", "pass:secret", "-out", encryptedClientKey.path])
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: encryptedClientKey.path)
    }

    /// Makes `name`.key and `name`.crt, signed by the authority `authority` (its .crt and .key).
    private func issue(_ openssl: String, _ curve: [String], name: String, subject: String, by authority: String, extensions: String) throws {
        let dir = directory.path
        try Blocking.command(openssl, ["req"] + curve + ["-keyout", "\(dir)/\(name).key", "-out", "\(dir)/\(name).csr", "-subj", subject])
        let file = directory.appendingPathComponent("\(name).ext")
        try Data(extensions.utf8).write(to: file)
        try Blocking.command(openssl, [
            "x509", "-req", "-in", "\(dir)/\(name).csr", "-CA", "\(dir)/\(authority).crt", "-CAkey", "\(dir)/\(authority).key",
            "-CAcreateserial", "-out", "\(dir)/\(name).crt", "-days", "2", "-extfile", file.path,
        ])
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: "\(dir)/\(name).key")
    }

    static func opensslPath() throws -> String {
        for candidate in ["/usr/bin/openssl", "/usr/local/bin/openssl"] where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        throw ChildProcess.ProcessFailure(message: "the openssl tool is not installed; run scripts/install-deps")
    }
}
