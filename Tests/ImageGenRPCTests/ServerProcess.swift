import Foundation
import Synchronization
import Testing

/// A real `imagegen-server` process for end-to-end tests: started with port 0, its address read
/// from its "listening on HOST:PORT" line, its output collected, stopped with a signal.
final class ServerProcess: Sendable {
    private let process: Process
    private let output = OutputBuffer()

    init(arguments: [String], environment: [String: String] = [:]) throws {
        let process = Process()
        process.executableURL = productsDirectory().appendingPathComponent("imagegen-server")
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["IMAGEGEN_AUTH_TOKEN"] = nil
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        self.process = process
        stdout.fileHandleForReading.readabilityHandler = { [output] handle in
            let text = String(decoding: handle.availableData, as: UTF8.self)
            output.append(stdout: text)
        }
        stderr.fileHandleForReading.readabilityHandler = { [output] handle in
            let text = String(decoding: handle.availableData, as: UTF8.self)
            output.append(stderr: text)
        }
        try process.run()
    }

    var stdout: String { output.text.stdout }
    var stderr: String { output.text.stderr }
    var pid: Int32 { process.processIdentifier }

    /// Waits for the "listening on HOST:PORT" line and returns the port.
    func port(timeout: Duration = .seconds(20)) async throws -> Int {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let line = stdout.split(separator: "\n").first(where: { $0.hasPrefix("listening on ") }),
                let port = line.split(separator: ":").last.flatMap({ Int($0) })
            {
                return port
            }
            if !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw ProcessFailure(message: "no \"listening on\" line; stdout: \(stdout) stderr: \(stderr)")
    }

    /// Sends `signal` and waits for the process to exit; returns its exit status.
    func stop(signal: Int32 = SIGTERM, timeout: Duration = .seconds(15)) async throws -> Int32 {
        if process.isRunning { kill(process.processIdentifier, signal) }
        return try await waitForExit(timeout: timeout)
    }

    /// Waits for the process to exit by itself; returns its exit status.
    func waitForExit(timeout: Duration = .seconds(15)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline {
                kill(process.processIdentifier, SIGKILL)
                throw ProcessFailure(message: "the process did not exit within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    struct ProcessFailure: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }
}

/// Output collected from a child process's pipes.
final class OutputBuffer: Sendable {
    private let state = Mutex((stdout: "", stderr: ""))
    func append(stdout text: String) { state.withLock { $0.stdout += text } }
    func append(stderr text: String) { state.withLock { $0.stderr += text } }
    var text: (stdout: String, stderr: String) { state.withLock { $0 } }
}
