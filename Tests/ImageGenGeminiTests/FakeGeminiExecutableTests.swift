import FakeGemini
import Foundation
import ImageGenTestSupport
import ImageGenEngine
import ImageGenGemini
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `imagegen-fake-gemini` run as a real process.
@Suite("imagegen-fake-gemini executable", .timeLimit(.minutes(2)), .hangWatchdog)
struct FakeGeminiExecutableTests {
    /// The executable sits next to the test bundle in the build directory.
    static func executableURL() -> URL? {
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var directory = exe.deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("imagegen-fake-gemini")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return nil
    }

    /// Reads stdout until the first line, off the cooperative pool.
    static func firstLine(of handle: FileHandle) async -> String {
        await withCheckedContinuation { (continuation: CheckedContinuation<String, Never>) in
            let thread = Thread {
                var bytes = Data()
                while true {
                    let chunk = handle.availableData
                    if chunk.isEmpty { break }
                    bytes.append(chunk)
                    if bytes.contains(0x0A) { break }
                }
                let text = String(decoding: bytes, as: UTF8.self)
                continuation.resume(returning: String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? ""))
            }
            thread.start()
        }
    }

    /// Starts the executable with `arguments`, runs `body` with its port, then sends SIGTERM and
    /// returns how it exited.
    static func withProcess(
        _ arguments: [String], _ body: (Int) async throws -> Void
    ) async throws -> (status: Int32, reason: Process.TerminationReason) {
        let url = try #require(Self.executableURL(), "build imagegen-fake-gemini first")
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        let exited = AsyncStream<Int32>.makeStream()
        process.terminationHandler = { process in
            exited.continuation.yield(process.terminationStatus)
            exited.continuation.finish()
        }
        // Dies with this test process, even one killed with SIGKILL.
        ChildProcess.guarded(process)
        try SpawnThread.shared.start(process)
        let line = await Self.firstLine(of: stdout.fileHandleForReading)
        #expect(line.hasPrefix("listening on 127.0.0.1:"))
        let port = try #require(Int(line.split(separator: ":").last ?? ""))
        #expect(port > 0)
        do {
            try await body(port)
        } catch {
            process.terminate()
            for await _ in exited.stream {}
            throw error
        }
        process.terminate()
        var status: Int32 = -1
        for await code in exited.stream { status = code }
        return (status, process.terminationReason)
    }

    @Test func runsAnswersLogsAndExitsZeroOnSIGTERM() async throws {
        let arguments = [
            "--listen", "127.0.0.1:0", "--key", "project-a:\(GeminiTestSupport.secretA)", "--rpm", "100",
            "--fault", "unavailable", "--log-level", "debug",
        ]
        let (status, reason) = try await Self.withProcess(arguments) { port in
            let provider = try GeminiProvider(
                configuration: GeminiConfiguration(baseURL: "http://127.0.0.1:\(port)"), logger: LogRecorder().logger(label: "gemini"))
            let failure = await GeminiTestSupport.failure(of: provider, GeminiTestSupport.request("through a process"))
            #expect({ if case .transient(503, _, false)? = failure { true } else { false } }())
            let image = try await provider.generate(GeminiTestSupport.request("through a process"))
            #expect(try image.data == FakeGeminiServer.image(for: "through a process"))
            #expect(image.mimeType == "image/png")
            await provider.shutdown()

            let (data, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/_fake/log")!)
            let requests = try FakeGeminiRequestLogEntry.decodeLog(from: data)
            #expect(requests.map(\.kind) == ["unavailable", "image"])
            #expect(requests.map(\.status) == [503, 200])
            #expect(requests.allSatisfy { $0.keyLabel == "…0001" && $0.project == "project-a" && $0.keySource == "header" })
            #expect(!String(decoding: data, as: UTF8.self).contains(GeminiTestSupport.secretA))
        }
        #expect(status == 0)
        #expect(reason == .exit)
    }

    /// `--limiter` with `--rpm`/`--rate-window-ms`/`--burst`: a minute-long window, so a burst cannot race it.
    @Test(arguments: [("token-bucket", 2), ("fixed-window", 3), ("sliding-window", 3)])
    func theLimiterFlagChoosesTheShape(limiter: String, admitted: Int) async throws {
        let arguments = [
            "--listen", "127.0.0.1:0", "--key", "project-a:\(GeminiTestSupport.secretA)", "--limiter", limiter, "--rpm", "3",
            "--rate-window-ms", "60000", "--burst", "2",
        ]
        let (status, _) = try await Self.withProcess(arguments) { port in
            var statuses: [Int] = []
            var last = Data()
            for index in 0..<(admitted + 2) {
                let (code, body) = try await FakeGeminiLimiterTests.generate("http://127.0.0.1:\(port)", prompt: "flag \(index)")
                statuses.append(code)
                last = body
            }
            #expect(statuses == Array(repeating: 200, count: admitted) + [429, 429])
            let refusal = try FakeGeminiLimiterTests.refusal(last)
            #expect(refusal.quotaValue == "3" && refusal.model == GeminiTestSupport.model)
        }
        #expect(status == 0)
    }
}
