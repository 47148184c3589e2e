public import Foundation

/// A certificate authority and a server certificate it signed, made for one test by the `openssl`
/// tool in a directory of their own: the server's names only IP 127.0.0.1. Also a second
/// authority that signed nothing (a root the server's certificate does not chain to).
public struct TestCertificates: Sendable {
    public let directory: URL

    /// The authority that signed the server's certificate (a PEM file).
    public var authority: URL { directory.appendingPathComponent("ca.crt") }
    /// An authority that signed nothing here.
    public var otherAuthority: URL { directory.appendingPathComponent("other-ca.crt") }
    /// The server's certificate and key (PEM; the key unencrypted, mode 0600).
    public var serverCertificate: URL { directory.appendingPathComponent("server.crt") }
    public var serverKey: URL { directory.appendingPathComponent("server.key") }

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
        try Blocking.command(openssl, ["req"] + curve + [
            "-keyout", serverKey.path, "-out", "\(dir)/server.csr", "-subj", "/CN=imagegen test database",
        ])
        let extensions = directory.appendingPathComponent("server.ext")
        try Data("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n".utf8).write(to: extensions)
        try Blocking.command(openssl, [
            "x509", "-req", "-in", "\(dir)/server.csr", "-CA", authority.path, "-CAkey", "\(dir)/ca.key",
            "-CAcreateserial", "-out", serverCertificate.path, "-days", "2", "-extfile", extensions.path,
        ])
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: serverKey.path)
    }

    static func opensslPath() throws -> String {
        for candidate in ["/usr/bin/openssl", "/usr/local/bin/openssl"] where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        throw ChildProcess.ProcessFailure(message: "the openssl tool is not installed; run scripts/install-deps")
    }
}
