import ArgumentParser
import FakeGemini
import Foundation
import ImageGenEngine
import Logging

/// `imagegen-bench rate`: rate-bound throughput. Three styles × k keys (each its own project)
/// render a storyboard of `cut` beats through the real Gemini provider against an in-process fake
/// that allows `limit` requests per project per `window`; the engine is paced at the same rate. The
/// bound is the sum of the projects' paces; the headline is achieved images/s ÷ bound.
struct RateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rate", abstract: "Rate-bound throughput against the fake Gemini server.")

    @Option(help: "Beats in the storyboard (all cut); each is rendered in 3 styles.")
    var beats = 240
    @Option(help: "Keys per style, each its own project.")
    var keys = 2
    @Option(help: "Requests the fake accepts per project per window (R).")
    var limit = 10
    @Option(help: "The fake's sliding rate window, in milliseconds (60000 is Gemini's minute).")
    var windowMs = 3_000
    @Option(help: "The fake's latency per request, in milliseconds (L).")
    var latencyMs = 500
    @Option(help: "Images excluded at the start of the steady-state rate.")
    var warmup = 10
    @Option(help: "The engine's paceMarginPercent: request starts spaced this much wider than the fake's limit.")
    var paceMargin = EngineConfiguration().paceMarginPercent
    @Option(help: "Beats of the sequential (maxConcurrentRequests=1) sample; 0 skips it.")
    var sequentialBeats = 10
    @Flag(help: "Also print the report as JSON.")
    var json = false

    var commandLine: String {
        "imagegen-bench rate --beats \(beats) --keys \(keys) --limit \(limit) --window-ms \(windowMs) --latency-ms \(latencyMs) --pace-margin \(BenchReport.format(paceMargin)) --warmup \(warmup) --sequential-beats \(sequentialBeats)"
    }

    func validate() throws {
        guard beats >= 1, keys >= 1, limit >= 1, windowMs >= 100, latencyMs >= 0, warmup >= 0, sequentialBeats >= 0,
            (0...100).contains(paceMargin) else {
            throw ValidationError("every option must be positive (window at least 100 ms, pace margin 0–100)")
        }
    }

    func run() async throws {
        var logger = Logger(label: "imagegen-bench")
        logger.logLevel = .error
        let styleNames = StyleConfiguration.defaults.map(\.name)
        let benchKeys = BenchKeys(styles: styleNames, count: keys)
        // The engine's pace per project: `limit` per window, expressed per minute.
        let requestsPerMinute = Double(limit) * 60_000 / Double(windowMs)
        let spacingMs = Double(windowMs) / Double(limit)
        let inFlight = max(4, Int((Double(latencyMs) / spacingMs).rounded(.up)) + 2)
        let styles = StyleConfiguration.defaults.map { base -> StyleConfiguration in
            var style = base
            style.keys = benchKeys.keysByStyle[style.name] ?? []
            style.requestsPerMinute = requestsPerMinute
            style.maxInFlightPerProject = inFlight
            style.requestTimeout = .seconds(60)
            return style
        }
        let fake = FakeGeminiConfiguration(
            keys: benchKeys.fakeKeys, requestsPerMinute: limit, rateWindow: .milliseconds(windowMs),
            latency: .milliseconds(latencyMs))
        let projects = benchKeys.projectCount
        let bound = Double(projects) * Double(limit) / (Double(windowMs) / 1_000)

        FileHandle.standardError.write(Data("rate: concurrent run of \(beats * styles.count) images…\n".utf8))
        let main = try await GeminiRun(
            fake: fake, styles: styles, storyboard: try BenchStoryboards.cuts(beats: beats), maxConcurrentRequests: nil,
            paceMarginPercent: paceMargin
        ).run(logger: logger)

        var report = BenchReport(scenario: "rate", command: commandLine)
        let steady = main.steadyRate(warmup: warmup)
        let whole = Double(main.images) / max(main.wall.seconds, 1e-9)
        report.add("projects", Double(projects), "", "3 styles × \(keys) keys, each key its own project")
        report.add("pace per project", Double(limit) / (Double(windowMs) / 1_000), "req/s", "fake: \(limit) per \(windowMs) ms window; engine requestsPerMinute = \(BenchReport.format(requestsPerMinute)), pace margin \(BenchReport.format(paceMargin)) %")
        report.add("latency", Double(latencyMs), "ms", "fake's delay before each answer")
        report.add("bound", bound, "img/s", "sum of the projects' paces")
        report.add("images", Double(main.images), "", "done (failed: \(main.failed), job state \(main.state.rawValue))")
        report.add("wall", main.wall.seconds, "s", "whole job")
        report.add("steady rate", steady, "img/s", "from image #\(warmup) to the last")
        report.add("steady rate / bound", steady / bound, "ratio", "achieved ÷ bound, after warm-up", headline: true)
        report.add("whole-run rate / bound", whole / bound, "ratio", "images ÷ wall ÷ bound, warm-up included")
        report.add("requests", Double(main.requestLog.count), "", "generateContent requests the fake saw")
        report.add("429 share", Double(main.rateLimitedRequests) / Double(max(main.requestLog.count, 1)), "ratio", "per-minute 429s ÷ requests (fake's log)", headline: true)

        if sequentialBeats > 0 {
            FileHandle.standardError.write(Data("rate: sequential sample of \(sequentialBeats * styles.count) images…\n".utf8))
            let sequential = try await GeminiRun(
                fake: fake, styles: styles, storyboard: try BenchStoryboards.cuts(beats: sequentialBeats),
                maxConcurrentRequests: 1
            ).run(logger: logger)
            let perImage = sequential.wall.seconds / Double(max(sequential.images, 1))
            let extrapolated = perImage * Double(main.images)
            report.add("sequential images", Double(sequential.images), "", "sample with maxConcurrentRequests=1, same configuration")
            report.add("sequential per image", perImage, "s", "sample wall ÷ sample images")
            report.add("sequential extrapolated", extrapolated, "s", "per image × \(main.images) images (extrapolated, not run)")
            report.add("speedup", extrapolated / max(main.wall.seconds, 1e-9), "ratio", "extrapolated sequential wall ÷ concurrent wall", headline: true)
            report.notes.append("the sequential time is extrapolated per image from a \(sequential.images)-image sample run with maxConcurrentRequests=1")
        }
        report.print(json: json)
    }
}
