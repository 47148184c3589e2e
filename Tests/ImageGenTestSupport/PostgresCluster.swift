public import Foundation
import Synchronization

/// A throw-away PostgreSQL server for one test, on a free loopback port, in its own directory in
/// /dev/shm (memory: its writes do not slow other tests' fsyncs). Its data directory is a copy of
/// a template made once by `initdb` (kept in /dev/shm across test runs, one per PostgreSQL version
/// and user). The server runs as a ``ChildProcess`` of the test; as root (CI) it runs as `nobody`
/// (PostgreSQL refuses root) through `setpriv`. Trust authentication, user `imagegen`. Started
/// with ``TestCertificates`` it also takes TLS connections (plain ones too), with their server
/// certificate and key.
public final class PostgresCluster: Sendable {
    public let port: Int
    public let directory: URL
    /// The loopback addresses it listens on (127.0.0.1 and any others it was started with).
    public let listenAddresses: [String]
    private let tls: Bool
    private let server = Mutex<ChildProcess?>(nil)

    /// The URL a server's `--coordination` takes.
    public var url: String { "postgres://imagegen@127.0.0.1:\(port)/postgres" }

    private init(port: Int, directory: URL, listenAddresses: [String], tls: Bool) {
        self.port = port
        self.directory = directory
        self.listenAddresses = listenAddresses
        self.tls = tls
    }

    /// Runs `body` with a started cluster, and stops and removes it afterwards.
    public static func with<T>(
        tls: TestCertificates? = nil, alsoListeningOn more: [String] = [], _ body: (PostgresCluster) async throws -> T
    ) async throws -> T {
        let cluster = try await start(tls: tls, alsoListeningOn: more)
        do {
            let result = try await body(cluster)
            await cluster.destroy()
            return result
        } catch {
            await cluster.destroy()
            throw error
        }
    }

    /// Copies the template and starts a server on a free port (another, if the first is taken);
    /// with `tls`, its server certificate and key go in the cluster's directory, TLS is on, and
    /// ``TestCertificates/clientUser`` signs in by client certificate (``installCertificate(_:in:)``).
    public static func start(tls: TestCertificates? = nil, alsoListeningOn more: [String] = []) async throws -> PostgresCluster {
        let template = try await Self.template()
        let directory = URL(fileURLWithPath: "/dev/shm/imagegen-pg-\(UUID().uuidString)")
        try await Blocking.run {
            try Blocking.command("/bin/cp", ["-a", template.path, directory.path])
            if let tls { try installCertificate(tls, in: directory) }
        }
        var lastFailure: (any Error)?
        for _ in 0..<8 {
            let cluster = PostgresCluster(
                port: Int.random(in: 20_000...31_999), directory: directory, listenAddresses: ["127.0.0.1"] + more, tls: tls != nil)
            do {
                try await cluster.resume()
                if tls != nil { try await cluster.createClientUser() }
                return cluster
            } catch {
                lastFailure = error
            }
        }
        try? FileManager.default.removeItem(at: directory)
        throw lastFailure ?? ChildProcess.ProcessFailure(message: "PostgreSQL did not start")
    }

    /// Starts the server again on the same port and data (after ``stop()``).
    public func resume() async throws {
        let bin = try Self.binDirectory()
        let postgres = [
            bin.appendingPathComponent("postgres").path, "-D", directory.appendingPathComponent("data").path,
            "-p", "\(port)", "-k", directory.path, "-c", "listen_addresses=\(listenAddresses.joined(separator: ","))",
            "-c", "dynamic_shared_memory_type=mmap", "-c", "fsync=off", "-c", "max_connections=60",
            "-c", "shared_buffers=16MB", "-c", "log_min_messages=warning",
        ] + (tls ? [
            "-c", "ssl=on", "-c", "ssl_cert_file=\(directory.path)/server.crt", "-c", "ssl_key_file=\(directory.path)/server.key",
            "-c", "ssl_ca_file=\(directory.path)/root.crt", "-c", "hba_file=\(directory.path)/pg_hba.conf",
        ] : [])
        let command = Self.asPostgresUser(postgres)
        let child = try ChildProcess(command[0], arguments: Array(command.dropFirst()))
        let deadline = ContinuousClock.now + .seconds(30)
        while !child.stderr.contains("ready to accept connections") {
            guard child.isRunning, ContinuousClock.now < deadline else {
                _ = try? await child.stop(signal: SIGKILL)
                throw ChildProcess.ProcessFailure(message: "PostgreSQL did not start on port \(port): \(child.stderr.suffix(2_000))")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        server.withLock { $0 = child }
    }

    /// Makes ``TestCertificates/clientUser`` a user (a superuser: it migrates the schema), over the
    /// cluster's Unix socket.
    private func createClientUser() async throws {
        let command = Self.asPostgresUser([
            try Self.binDirectory().appendingPathComponent("createuser").path,
            "-h", directory.path, "-p", "\(port)", "-U", "imagegen", "--superuser", TestCertificates.clientUser,
        ])
        try await Blocking.run { try Blocking.command(command) }
    }

    /// Stops the server (a fast shutdown: sessions are ended), keeping its data.
    public func stop() async throws {
        guard let child = server.withLock({ $0.take() }) else { return }
        _ = try await child.stop(signal: SIGINT, timeout: .seconds(20))
    }

    /// What the server wrote to its log since it last started.
    public var log: String { server.withLock { $0?.stderr ?? "" } }

    /// Stops the server at once and removes its directory.
    public func destroy() async {
        if let child = server.withLock({ $0.take() }) { _ = try? await child.stop(signal: SIGQUIT, timeout: .seconds(20)) }
        try? FileManager.default.removeItem(at: directory)
    }

    // MARK: - The template

    private static let templateLock = Mutex<URL?>(nil)

    /// The initialised cluster every test copies: made once (by `initdb`), kept in /dev/shm.
    static func template() async throws -> URL {
        try await Blocking.run {
            try templateLock.withLock { known -> URL in
                if let known { return known }
                let bin = try binDirectory()
                let version = bin.deletingLastPathComponent().lastPathComponent
                let template = URL(fileURLWithPath: "/dev/shm/imagegen-pg-template-\(version)-\(getuid())")
                if !FileManager.default.fileExists(atPath: template.appendingPathComponent("data/PG_VERSION").path) {
                    let staging = URL(fileURLWithPath: template.path + ".\(getpid())")
                    try? FileManager.default.removeItem(at: staging)
                    try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
                    try chownToPostgresUser(staging)
                    try Blocking.command(asPostgresUser([
                        bin.appendingPathComponent("initdb").path, "-D", staging.appendingPathComponent("data").path,
                        "-U", "imagegen", "--auth=trust", "-E", "UTF8", "--no-sync", "--locale=C",
                    ]))
                    try? FileManager.default.removeItem(at: template)
                    try FileManager.default.moveItem(at: staging, to: template)
                }
                known = template
                return template
            }
        }
    }

    /// The newest installed PostgreSQL's programs (Debian: /usr/lib/postgresql/<version>/bin).
    static func binDirectory() throws -> URL {
        let root = URL(fileURLWithPath: "/usr/lib/postgresql")
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        guard let newest = versions.compactMap(Int.init).max() else {
            throw ChildProcess.ProcessFailure(message: "PostgreSQL is not installed (no /usr/lib/postgresql/<version>); run scripts/install-deps")
        }
        return root.appendingPathComponent("\(newest)/bin")
    }

    /// The command, run as `nobody` when the tests run as root (PostgreSQL will not run as root).
    static func asPostgresUser(_ command: [String]) -> [String] {
        guard getuid() == 0 else { return command }
        return ["/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"] + command
    }

    /// The server's certificate and key, where the server (its user) can read them and no one
    /// else, and the authority of ``TestCertificates`` as the one client certificates must chain
    /// to: ``TestCertificates/clientUser`` signs in by certificate only (pg_hba's `cert`, over TLS),
    /// everyone else is trusted.
    static func installCertificate(_ tls: TestCertificates, in directory: URL) throws {
        for (source, name) in [(tls.serverCertificate, "server.crt"), (tls.serverKey, "server.key"), (tls.authority, "root.crt")] {
            let target = directory.appendingPathComponent(name)
            try FileManager.default.copyItem(at: source, to: target)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: target.path)
            try chownToPostgresUser(target)
        }
        let user = TestCertificates.clientUser
        let rules = """
            hostssl all \(user) 127.0.0.0/8 cert
            host all \(user) 127.0.0.0/8 reject
            local all all trust
            host all all 127.0.0.0/8 trust

            """
        try Data(rules.utf8).write(to: directory.appendingPathComponent("pg_hba.conf"))
    }

    static func chownToPostgresUser(_ directory: URL) throws {
        guard getuid() == 0 else { return }
        try Blocking.command("/bin/chown", ["nobody:nogroup", directory.path])
    }
}

/// Blocking work (a child process run to its end) on a thread of its own, off the cooperative pool.
enum Blocking {
    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try body() }) }
            thread.name = "imagegen-test-blocking"
            thread.start()
        }
    }

    /// Runs a command to its end; throws with its output when it fails.
    static func command(_ command: [String]) throws {
        try Self.command(command[0], Array(command.dropFirst()))
    }

    static func command(_ program: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ChildProcess.ProcessFailure(
                message: "\(program) \(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(String(decoding: data.suffix(2_000), as: UTF8.self))")
        }
    }
}
