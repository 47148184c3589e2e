import Foundation

/// The package's root folder.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// The result of running a program.
struct ProcessResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs `arguments` (the first looked up on PATH) in the package root and waits for it.
/// Standard error goes to a temporary file, so only one pipe has to be drained.
func run(_ arguments: [String], environment: [String: String] = [:]) throws -> ProcessResult {
    let errorFile = FileManager.default.temporaryDirectory
        .appendingPathComponent("imagegen-wire-tests-\(UUID().uuidString).stderr")
    guard FileManager.default.createFile(atPath: errorFile.path, contents: nil) else {
        throw CocoaError(.fileWriteUnknown)
    }
    defer { try? FileManager.default.removeItem(at: errorFile) }
    let errorHandle = try FileHandle(forWritingTo: errorFile)
    defer { try? errorHandle.close() }

    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    process.currentDirectoryURL = packageRoot
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let stdout = Pipe()
    process.standardOutput = stdout
    process.standardError = errorHandle
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let out = stdout.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    // FileHandle, not Data(contentsOf:): the latter leaks a buffer for empty files on Linux (LeakSanitizer).
    let errorReader = try FileHandle(forReadingFrom: errorFile)
    defer { try? errorReader.close() }
    let err = try errorReader.readToEnd() ?? Data()
    return ProcessResult(
        status: process.terminationStatus,
        stdout: String(decoding: out, as: UTF8.self),
        stderr: String(decoding: err, as: UTF8.self))
}

/// ``run(_:environment:)`` on a thread of its own: waiting for a child process never holds one of
/// the few threads of Swift's cooperative pool, which every other suite of the run shares (15
/// Python cases blocking both threads of a 2-core machine stalled the whole process for 30 s).
func runOffPool(_ arguments: [String], environment: [String: String] = [:]) async throws -> ProcessResult {
    try await offPool { try run(arguments, environment: environment) }
}

/// Runs blocking `body` on a new thread and returns its result.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// Whether a program runs successfully with `arguments`.
func succeeds(_ arguments: [String]) -> Bool {
    (try? run(arguments))?.status == 0
}
