import ArgumentParser
import Foundation
import ImageGenEngine
import Logging

/// `imagegen-render STORYBOARD.json --project DIR [--config FILE] [--styles a,b] [--force]`:
/// renders a storyboard with the engine (offline renderer; this tool has no Gemini provider),
/// prints one line per event, and exits 0 when every beat is done.
@main
struct ImageGenRender: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "imagegen-render",
        abstract: "Render a storyboard into images in every configured style, locally.")

    @Argument(help: "The storyboard JSON file.")
    var storyboard: String

    @Option(help: "The project directory (generated_images/ and image_progress_<style>.json go here).")
    var project: String

    @Option(help: "The configuration file (see Sources/ImageGenEngine/CONFIGURATION.md).")
    var config: String?

    @Option(help: "Comma-separated styles to render (default: all).")
    var styles: String?

    @Flag(help: "Regenerate every beat.")
    var force = false

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "warning"

    func run() async throws {
        var logger = Logger(label: "imagegen-render")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .warning
        let environment = ProcessInfo.processInfo.environment
        do {
            var configuration = try EngineConfiguration.load(
                file: config.map { URL(fileURLWithPath: $0) }, environment: environment)
            // This tool has no network provider: styles with keys are rendered offline too.
            for index in configuration.styles.indices where !configuration.styles[index].keys.isEmpty {
                print("message style=\(configuration.styles[index].name) keys are ignored: imagegen-render renders offline")
                configuration.styles[index].keys = []
            }
            let board = try ValidatedStoryboard.load(contentsOf: URL(fileURLWithPath: storyboard))
            let engine = ImageEngine(configuration: configuration, logger: logger)
            let selected = styles.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
            // The project's lock, as a server's job takes it: never two jobs on one project at once.
            let directory = try ProjectDirectory(url: URL(fileURLWithPath: project, isDirectory: true), create: true)
            let lock = try ProjectLock.acquire(directory, holder: "pid \(getpid()) on host \(ProcessInfo.processInfo.hostName), imagegen-render")
            defer { withExtendedLifetime(lock) {} }
            let job = try engine.makeJob(
                storyboard: board, directory: directory, options: JobOptions(styles: selected, force: force))
            let summary = await withTaskGroup(of: JobSummary?.self) { group in
                group.addTask {
                    for await event in job.events { print(Self.line(event)) }
                    return nil
                }
                group.addTask { await job.run() }
                var result: JobSummary?
                for await value in group where value != nil { result = value }
                return result
            }
            guard let summary, summary.state == .completed else { throw ExitCode(1) }
        } catch let error as EngineError {
            FileHandle.standardError.write(Data("imagegen-render: \(error.description)\n".utf8))
            throw ExitCode(2)
        }
    }

    static func line(_ event: EngineEvent) -> String {
        switch event {
        case .beat(let beat):
            var parts = ["beat", "style=\(beat.style)", "shot=\(beat.shotID)", "beat=\(beat.beatID)", "state=\(beat.state.rawValue)",
                         "attempt=\(beat.attempt)"]
            if let key = beat.keyLabel { parts.append("key=\(key)") }
            if let path = beat.outputPath { parts.append("path=\(path)") }
            if let bytes = beat.bytes { parts.append("bytes=\(bytes)") }
            if let sha = beat.sha256 { parts.append("sha256=\(sha)") }
            if let retry = beat.retryIn { parts.append("retryIn=\(retry)") }
            if let error = beat.error { parts.append("error=\(error)") }
            return parts.joined(separator: " ")
        case .progress(let p):
            return "progress style=\(p.style) completed=\(p.completed)/\(p.total) failed=\(p.failed) inFlight=\(p.inFlight) percent=\(String(format: "%.1f", p.percent))"
        case .key(let key):
            return "key style=\(key.style) key=\(key.keyLabel) project=\(key.project) model=\(key.model) state=\(key.state.rawValue)"
                + (key.duration.map { " duration=\($0)" } ?? "") + " reason=\(key.reason)"
        case .message(let style, let text):
            return "message" + (style.map { " style=\($0)" } ?? "") + " \(text)"
        case .styleFinished(let s):
            return "style style=\(s.style) state=\(s.state.rawValue) total=\(s.total) done=\(s.done) skipped=\(s.skipped) failed=\(s.failed) requests=\(s.spend.requests) tokens=\(s.spend.usage.totalTokens) duration=\(s.duration)"
                + (s.error.map { " error=\($0)" } ?? "")
        case .jobFinished(let j):
            return "job state=\(j.state.rawValue) duration=\(j.duration)"
        }
    }
}
