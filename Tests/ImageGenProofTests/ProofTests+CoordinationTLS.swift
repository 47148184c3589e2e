import Foundation
import ImageGenClient
import ImageGenTestSupport
import Testing

/// `imagegen-server` processes on a PostgreSQL that signs their database user in by client
/// certificate (pg_hba's `cert`, over TLS).
extension ProofTests {
    /// With `sslcert` and `sslkey` the server signs in to the database and serves: its calls are
    /// answered and it lists itself among the servers. A server whose URL names a TLS file it
    /// could never use exits at start with status 64, naming the file and what is wrong, at once
    /// rather than holding every request while it tries to connect.
    @Test(.timeLimit(.minutes(2)))
    func aServerSignsInByClientCertificateAndRefusesToStartOnABadFile() async throws {
        let workspace = try ProofWorkspace("tls-client")
        defer { workspace.remove() }
        let certificates = try await TestCertificates.make(in: workspace.base)
        let readable = workspace.base.appendingPathComponent("readable.key")
        try FileManager.default.copyItem(at: certificates.key(of: .user), to: readable)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: readable.path)
        let missing = workspace.base.appendingPathComponent("absent.pem").path
        try await PostgresCluster.with(tls: certificates) { cluster in
            let url = { (root: String, key: String) in
                "postgres://\(TestCertificates.clientUser)@127.0.0.1:\(cluster.port)/postgres?sslmode=verify-full&sslrootcert=\(root)"
                    + "&sslcert=\(certificates.certificate(of: .user).path)&sslkey=\(key)"
            }
            let launcher = Self.tlsLauncher(workspace, url: url(certificates.authority.path, certificates.key(of: .user).path), name: "good")
            let running = try await launcher.launch()
            do {
                let client = try await ServerLauncher.client(running)
                defer { client.close() }
                _ = try await client.listJobs()
                let servers = try await client.listServers().servers
                #expect(servers.map(\.serverID) == ["tls-good"], "\(servers)")
            } catch {
                Issue.record("\(error); stderr: \(running.process.stderr.suffix(1_500))")
            }
            #expect(await ServerLauncher.stop(running.process) == 0)

            let refused: [(name: String, url: String, reason: String)] = [
                ("missing-root", url(missing, certificates.key(of: .user).path), "sslrootcert \(missing): cannot read it: No such file or directory"),
                ("readable-key", url(certificates.authority.path, readable.path), "sslkey \(readable.path): others than its owner may read or change it (mode 644)"),
                ("strangers-key", url(certificates.authority.path, certificates.key(of: .stranger).path), "is not the key of the certificate in sslcert"),
            ]
            for check in refused {
                let launcher = Self.tlsLauncher(workspace, url: check.url, name: check.name)
                let process = try ChildProcess("imagegen-server", arguments: launcher.arguments, environment: launcher.environment)
                let status = try await process.waitForExit(timeout: .seconds(20))
                #expect(status == 64, "\(check.name): stderr: \(process.stderr.suffix(1_500))")
                #expect(process.stderr.contains(check.reason), "\(check.name): stderr: \(process.stderr.suffix(1_500))")
                #expect(!process.stdout.contains("listening on"), "\(check.name)")
                print("proof tls-client: \(check.name) exited \(status): \(process.stderr.split(separator: "\n").last ?? "")")
            }
        }
    }

    /// A server on `url`, under server id "tls-`name`", with a state directory of its own.
    static func tlsLauncher(_ workspace: ProofWorkspace, url: String, name: String) -> ServerLauncher {
        let state = workspace.base.appendingPathComponent("state-\(name)")
        var environment = Self.crashKeys
        environment["IMAGEGEN_GEMINI_BASE_URL"] = "http://127.0.0.1:9"
        return ServerLauncher(
            arguments: [
                "--listen", "127.0.0.1:0", "--projects-root", workspace.projectsRoot.path, "--state-dir", state.path,
                "--log-level", "warning", "--server-id", "tls-\(name)", "--coordination", url,
            ],
            environment: environment)
    }
}
