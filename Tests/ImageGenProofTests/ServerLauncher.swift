import Foundation
import ImageGenClient
import ImageGenTestSupport

/// Starts `imagegen-server` processes with fixed arguments and environment, as often as a test
/// needs (a crash test restarts it over the same state directory), and stops them.
struct ServerLauncher: Sendable {
    /// A started server process and the port it listens on.
    typealias Running = (process: ChildProcess, port: Int)

    var arguments: [String]
    var environment: [String: String?]

    /// The environment variables the server reads, all cleared: a test sets only what it means to.
    static let clearedEnvironment: [String: String?] = [
        "IMAGEGEN_KEYS_ILLUSTRATION": nil, "IMAGEGEN_KEYS_CLEAR": nil, "IMAGEGEN_KEYS_CONSISTENT": nil,
        "IMAGEGEN_GEMINI_BASE_URL": nil, "IMAGEGEN_KEY_RPM": nil, "IMAGEGEN_OFFLINE_LATENCY_MS": nil,
        "IMAGEGEN_OFFLINE_RENDER_LOG": nil, "IMAGEGEN_AUTH_TOKEN": nil, "IMAGEGEN_DATABASE_URL": nil,
    ]

    init(arguments: [String], environment: [String: String] = [:]) {
        self.arguments = arguments
        var merged = Self.clearedEnvironment
        for (key, value) in environment { merged[key] = value }
        self.environment = merged
    }

    /// Starts a server and waits for its "listening on" line.
    func launch() async throws -> Running {
        let process = try ChildProcess("imagegen-server", arguments: arguments, environment: environment)
        do {
            return (process, try await process.port())
        } catch {
            _ = try? await process.stop(signal: SIGKILL)
            throw error
        }
    }

    /// Connects a client to a running server on loopback.
    static func client(_ running: Running) async throws -> ImageGenerationClient {
        try await ImageGenerationClient.connect(host: "127.0.0.1", port: running.port)
    }

    /// Stops a server gracefully (SIGTERM), else kills it; returns the exit status of the graceful stop, if any.
    @discardableResult
    static func stop(_ process: ChildProcess) async -> Int32? {
        do {
            return try await process.stop(signal: SIGTERM, timeout: .seconds(15))
        } catch {
            _ = try? await process.stop(signal: SIGKILL, timeout: .seconds(5))
            return nil
        }
    }
}
