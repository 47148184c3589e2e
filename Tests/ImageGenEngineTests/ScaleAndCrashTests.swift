import Foundation
import ImageGenTestSupport
import ImageGenEngine
import Testing

@Suite("Scale and crash safety", .serialized, .timeLimit(.minutes(3)), .hangWatchdog)
struct ScaleAndCrashTests {
    /// 10,000 beats × 3 styles on the offline renderer: finishes, with bounded memory.
    @Test func tenThousandBeatsInThreeStyles() async throws {
        let dir = TempDirectory("scale", inMemory: true)
        let board = try makeStoryboard(shots: 100, beats: 100)
        var config = EngineConfiguration(durability: .none, offline: OfflineSettings(width: 16, height: 9, concurrency: 8))
        config.styles = config.styles.map { style in
            var style = style
            style.attachStyleReference = false
            return style
        }
        let engine = ImageEngine(configuration: config, logger: testLogger)
        let job = try engine.makeJob(storyboard: board, project: dir.url)
        let clock = ContinuousClock()
        let start = clock.now
        async let eventCount: Int = {
            var count = 0
            for await _ in job.events { count += 1 }
            return count
        }()
        let summary = await job.run()
        let events = await eventCount
        let elapsed = clock.now - start
        #expect(summary.state == .completed)
        #expect(summary.styles.map(\.done) == [10_000, 10_000, 10_000])
        let status = try await ProjectStatus.read(project: dir.url, styles: config.styles.map(\.name))
        #expect(status.isComplete && status.styles.allSatisfy { $0.done == 10_000 })
        let hwm = Self.peakRSSKilobytes()
        print("scale: 30,000 images in \(elapsed), \(events) events, VmHWM \(hwm / 1024) MB")
        #expect(hwm < 1_500_000)
    }

    /// Saving stays O(1) amortised: the time per save with 10,000 records is close to that with 1,000.
    /// Each measurement spans 10,000 saves, so it includes its share of journal compactions.
    @Test func saveCostIsFlat() async throws {
        func averageSave(records: Int) async throws -> Double {
            let dir = TempDirectory("flat")
            let store = try await ProgressStore.open(project: dir.url, style: "x", durability: .none, compactionLines: 1000)
            for i in 0..<records { try await store.save(ProgressStoreTests.record(i)) }
            let clock = ContinuousClock()
            let start = clock.now
            let measured = 10_000
            for i in 0..<measured { try await store.save(ProgressStoreTests.record(i % records)) }
            return (clock.now - start).seconds / Double(measured)
        }
        let small = try await averageSave(records: 1000)
        let large = try await averageSave(records: 10_000)
        print("progress save: \(Int(small * 1e6)) µs/save at 1,000 records, \(Int(large * 1e6)) µs/save at 10,000")
        #expect(large < small * 4 + 0.000_2)
    }

    static func peakRSSKilobytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
        }
        return 0
    }

    /// `imagegen-render` next to the test bundle (`.build/debug/`).
    static func renderExecutable() -> URL? {
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var directory = exe.deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("imagegen-render")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return nil
    }

    static func launch(_ executable: URL, _ arguments: [String]) throws -> (Process, AsyncStream<Int32>) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.environment = ["PATH": "/usr/bin:/bin"]
        let (exit, continuation) = AsyncStream<Int32>.makeStream()
        process.terminationHandler = { process in
            continuation.yield(process.terminationStatus)
            continuation.finish()
        }
        // Dies with this test process, even one killed with SIGKILL.
        ChildProcess.guarded(process)
        try SpawnThread.shared.start(process)
        return (process, exit)
    }

    static func renderLogLines(_ path: String) -> [Substring] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n")
    }

    @Test func renderToolRefusesABadStoryboardNamingTheProblem() async throws {
        guard let executable = Self.renderExecutable() else {
            Issue.record("imagegen-render not found next to the test bundle; run `swift build` first")
            return
        }
        let dir = TempDirectory("badboard")
        let board = dir.url.appendingPathComponent("storyboard.json")
        try Data(#"{"shots":[{"id":"3","beats":[{"id":"3.2","prompt":" "}]}]}"#.utf8).write(to: board)
        let process = Process()
        process.executableURL = executable
        process.arguments = [board.path, "--project", dir.url.appendingPathComponent("p").path]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        process.environment = [:]
        let (exit, continuation) = AsyncStream<Int32>.makeStream()
        process.terminationHandler = { continuation.yield($0.terminationStatus); continuation.finish() }
        // Dies with this test process, even one killed with SIGKILL.
        ChildProcess.guarded(process)
        try SpawnThread.shared.start(process)
        for await status in exit { #expect(status == 2) }
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(message.contains("shot 3, beat 3.2: prompt is empty"), "\(message)")
        #expect(!FileManager.default.fileExists(atPath: dir.url.appendingPathComponent("p").path))
    }

    @Test func killNineMidRunThenResume() async throws {
        guard let executable = Self.renderExecutable() else {
            Issue.record("imagegen-render not found next to the test bundle; run `swift build` first")
            return
        }
        let dir = TempDirectory("kill")
        let project = dir.url.appendingPathComponent("project")
        let board = dir.url.appendingPathComponent("storyboard.json")
        let shots = (1...4).map { s in
            let beats = (1...10).map { b in
                #"{"id":"\#(s).\#(b)","prompt":"shot \#(s) beat \#(b)","transition":"\#(b == 1 ? "hard_cut" : "continue")"}"#
            }
            return #"{"id":"\#(s)","beats":[\#(beats.joined(separator: ","))]}"#
        }
        try Data(#"{"shots":[\#(shots.joined(separator: ","))]}"#.utf8).write(to: board)
        let log = dir.url.appendingPathComponent("renders.log").path
        let config = dir.url.appendingPathComponent("config.json")
        try Data(#"{"offline":{"width":32,"height":18,"latencyMilliseconds":25,"concurrency":2,"renderLogPath":"\#(log)"}}"#.utf8)
            .write(to: config)
        let arguments = [board.path, "--project", project.path, "--config", config.path]

        // First run: kill -9 once about a third of the 120 images are rendered.
        let (process, exit) = try Self.launch(executable, arguments)
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(20)
        while Self.renderLogLines(log).count < 40 && clock.now < deadline && process.isRunning {
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(process.isRunning, "the first run ended before it could be killed")
        kill(process.processIdentifier, SIGKILL)
        for await status in exit { #expect(status == SIGKILL) }
        let rendersBeforeKill = Self.renderLogLines(log).count

        // Second run: to completion.
        let (_, secondExit) = try Self.launch(executable, arguments)
        for await status in secondExit { #expect(status == 0) }

        for style in ["illustration", "clear", "consistent"] {
            let records = try progressRecords(project, style: style)
            #expect(records.count == 40)
            for record in records.values {
                #expect(record.state == .done)
                let data = try Data(contentsOf: project.appendingPathComponent(record.file ?? "-"))
                #expect(data.count == record.bytes)
                #expect(validatePNG(data) != nil)
                #expect(DurableSHA.hex(data) == record.sha256)
            }
        }
        let leftovers = try FileManager.default.subpathsOfDirectory(atPath: project.path).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty, "\(leftovers)")
        // No image rendered twice unless it was in flight at the kill (at most 2 per style).
        let lines = Self.renderLogLines(log)
        var counts: [Substring: Int] = [:]
        for line in lines { counts[line, default: 0] += 1 }
        let duplicates = counts.values.reduce(0) { $0 + $1 - 1 }
        print("kill -9: \(rendersBeforeKill) renders before the kill, \(lines.count) in all, \(duplicates) repeated")
        #expect(counts.count == 120)
        #expect(duplicates <= 6)
    }
}

import Crypto

enum DurableSHA {
    static func hex(_ data: Data) -> String { SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined() }
}
