public import Foundation
import Synchronization

/// A real process of one of the package's executables, for end-to-end tests: its output
/// collected, its "listening on HOST:PORT" line read, stopped with a signal, killed at the end.
/// It dies with the test process, even one killed with SIGKILL (see ``ChildProcess/guarded(_:)``).
public final class ChildProcess: Sendable {
    private let process: Process
    private let output: OutputBuffer

    /// Starts `executable` (a product of this package, e.g. "imagegen-server") with `arguments`;
    /// `environment` entries are added to (or, with nil, removed from) the test's environment.
    public init(
        _ executable: String, arguments: [String], environment: [String: String?] = [:], directory: URL? = nil,
        standardInput: FileHandle? = nil, standardOutput: FileHandle? = nil
    ) throws {
        let process = Process()
        process.executableURL =
            executable.hasPrefix("/") ? URL(fileURLWithPath: executable) : productsDirectory().appendingPathComponent(executable)
        process.arguments = arguments
        Self.guarded(process)
        var env = ProcessInfo.processInfo.environment
        env["IMAGEGEN_AUTH_TOKEN"] = nil
        for (key, value) in environment { env[key] = value }
        process.environment = env
        if let directory { process.currentDirectoryURL = directory }
        let stderr = Pipe()
        var stdoutReader: PipeReader?
        if let standardOutput {
            process.standardOutput = standardOutput
        } else {
            let stdout = Pipe()
            process.standardOutput = stdout
            stdoutReader = PipeReader(stdout.fileHandleForReading)
        }
        process.standardError = stderr
        process.standardInput = standardInput ?? FileHandle.nullDevice
        self.process = process
        output = OutputBuffer(stdout: stdoutReader, stderr: PipeReader(stderr.fileHandleForReading))
        try SpawnThread.shared.start(process)
    }

    /// Makes `process` (not started yet) die with this test process: it runs through
    /// `imagegen-child-guard`, which asks for SIGKILL at its parent's death and then becomes the
    /// program (same pid). Start it with ``SpawnThread/start(_:)``: the signal comes when the
    /// spawning *thread* exits, and that thread lives as long as the process.
    public static func guarded(_ process: Process) {
        guard let program = process.executableURL else { return }
        process.executableURL = productsDirectory().appendingPathComponent("imagegen-child-guard")
        process.arguments = [String(getpid()), program.path] + (process.arguments ?? [])
    }

    /// What the process wrote to stdout (when it goes to a pipe) and stderr so far.
    public var stdout: String { output.text.stdout }
    public var stderr: String { output.text.stderr }
    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }

    /// Adds text to what `stdout` shows (for output read from elsewhere, e.g. a pseudo-terminal).
    public func appendOutput(_ text: String) { output.append(stdout: text) }

    /// Waits for the "listening on HOST:PORT" line and returns the port.
    public func port(timeout: Duration = .seconds(20)) async throws -> Int {
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
    public func stop(signal: Int32 = SIGTERM, timeout: Duration = .seconds(15)) async throws -> Int32 {
        if process.isRunning { kill(process.processIdentifier, signal) }
        return try await waitForExit(timeout: timeout)
    }

    /// Waits for the process to exit by itself; returns its exit status.
    public func waitForExit(timeout: Duration = .seconds(15)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline {
                kill(process.processIdentifier, SIGKILL)
                throw ProcessFailure(message: "the process did not exit within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        // Everything it wrote is collected once its pipes reach their end (bounded: a grandchild
        // could hold them open).
        let drained = ContinuousClock.now + .seconds(5)
        while !output.isAtEnd, ContinuousClock.now < drained { try await Task.sleep(for: .milliseconds(5)) }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// The process did not do what the test waited for.
    public struct ProcessFailure: Error, CustomStringConvertible {
        public var message: String
        public init(message: String) { self.message = message }
        public var description: String { message }
    }
}

/// Output collected from a child process's pipes, and text added from elsewhere.
final class OutputBuffer: Sendable {
    private let stdoutReader: PipeReader?
    private let stderrReader: PipeReader
    private let extra = Mutex("")

    init(stdout: PipeReader?, stderr: PipeReader) {
        stdoutReader = stdout
        stderrReader = stderr
    }

    func append(stdout text: String) { extra.withLock { $0 += text } }
    var text: (stdout: String, stderr: String) {
        ((stdoutReader?.text ?? "") + extra.withLock { $0 }, stderrReader.text)
    }
    var isAtEnd: Bool { (stdoutReader?.isAtEnd ?? true) && stderrReader.isAtEnd }
}

/// The directory of the running test binary, where SwiftPM also puts the package's executables.
public func productsDirectory() -> URL {
    let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    var directory = executable.deletingLastPathComponent()
    // On Linux the test bundle is `<products>/imagegenPackageTests.xctest` (a file), so its directory is <products>.
    while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("imagegen-server").path),
        directory.path != "/"
    {
        directory = directory.deletingLastPathComponent()
    }
    return directory
}
