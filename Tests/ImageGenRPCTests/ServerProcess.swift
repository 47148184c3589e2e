import Foundation
import ImageGenTestSupport

/// An `imagegen-server` process on loopback with its own projects root (holding one empty project,
/// "p") and state directory, both removed by `stop()`, with the engine's environment variables cleared.
struct ServerProcess: Sendable {
    let process: ChildProcess
    let port: Int
    let base: URL

    /// Starts a server with `arguments` after the workspace's own; waits for its "listening on" line.
    static func start(_ arguments: [String] = [], environment: [String: String?] = [:]) async throws -> ServerProcess {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("imagegen-rpc-\(UUID().uuidString)")
        let projects = base.appendingPathComponent("projects")
        // One empty project, "p".
        try FileManager.default.createDirectory(at: projects.appendingPathComponent("p"), withIntermediateDirectories: true)
        var env: [String: String?] = [
            "IMAGEGEN_KEYS_ILLUSTRATION": nil, "IMAGEGEN_KEYS_CLEAR": nil, "IMAGEGEN_KEYS_CONSISTENT": nil,
            "IMAGEGEN_GEMINI_BASE_URL": nil, "IMAGEGEN_KEY_RPM": nil, "IMAGEGEN_OFFLINE_LATENCY_MS": nil,
            "IMAGEGEN_OFFLINE_RENDER_LOG": nil,
        ]
        for (key, value) in environment { env[key] = value }
        let process = try ChildProcess(
            "imagegen-server",
            arguments: [
                "--listen", "127.0.0.1:0", "--projects-root", projects.path,
                "--state-dir", base.appendingPathComponent("state").path,
            ] + arguments,
            environment: env)
        do {
            return ServerProcess(process: process, port: try await process.port(), base: base)
        } catch {
            _ = try? await process.stop(signal: SIGKILL)
            try? FileManager.default.removeItem(at: base)
            throw error
        }
    }

    /// The projects root.
    var projects: URL { base.appendingPathComponent("projects") }

    /// Stops the server with SIGTERM, removes its directories, and returns its exit status.
    @discardableResult
    func stop() async throws -> Int32 {
        defer { try? FileManager.default.removeItem(at: base) }
        return try await process.stop(signal: SIGTERM)
    }
}
