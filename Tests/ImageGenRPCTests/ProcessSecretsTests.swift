import Foundation
import ImageGenTestSupport
import Testing

/// The server process keeps its secrets to itself: it is not dumpable, so its /proc files are
/// root's and another process of the same user cannot read the token from its environment.
/// The server runs as an unprivileged user (nobody) here: for root, every /proc file is root's anyway.
@Suite("Server process secrets", .timeLimit(.minutes(1)), .hangWatchdog)
struct ProcessSecretsTests {
    static let nobody = "65534"
    static let setpriv = "/usr/bin/setpriv"
    static let asNobody = ["--reuid=\(nobody)", "--regid=\(nobody)", "--clear-groups"]

    @Test("imagegen-server is not dumpable: its environ is root's and unreadable to its own user")
    func notDumpable() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.setpriv), "util-linux setpriv is needed to drop to nobody")
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("imagegen-secrets-\(UUID().uuidString)")
        let projects = base.appendingPathComponent("projects")
        try FileManager.default.createDirectory(at: projects, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: base.path)
        defer { try? FileManager.default.removeItem(at: base) }
        let token = "tok-\(UInt64.random(in: 1...UInt64.max))"
        let server = try ChildProcess(
            Self.setpriv,
            arguments: Self.asNobody + [
                productsDirectory().appendingPathComponent("imagegen-server").path, "--listen", "127.0.0.1:0",
                "--projects-root", projects.path, "--state-dir", base.appendingPathComponent("state").path,
            ],
            environment: ["IMAGEGEN_AUTH_TOKEN": token])
        _ = try await server.port()
        let pid = server.pid

        // It really runs as nobody.
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let uidLine = status.split(separator: "\n").first { $0.hasPrefix("Uid:") } ?? ""
        #expect(uidLine.split(whereSeparator: \.isWhitespace).dropFirst().first == Substring(Self.nobody), "\(uidLine)")

        // Not dumpable: the kernel gives its /proc files to root instead of the process's user.
        let attributes = try FileManager.default.attributesOfItem(atPath: "/proc/\(pid)/environ")
        #expect((attributes[.ownerAccountID] as? NSNumber)?.intValue == 0)

        // Another process of the same user cannot read the token from its environment.
        let reader = try ChildProcess(Self.setpriv, arguments: Self.asNobody + ["/bin/cat", "/proc/\(pid)/environ"])
        let readStatus = try await reader.waitForExit()
        #expect(readStatus != 0)
        // (Not printed on failure: the environment may hold the test machine's own secrets.)
        let leaked = reader.stdout.contains(token)
        #expect(!leaked, "the token was read from /proc/\(pid)/environ")

        #expect(try await server.stop() == 0)
    }
}
