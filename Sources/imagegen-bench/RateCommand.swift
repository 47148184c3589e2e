import ArgumentParser
import FakeGemini
import Foundation
import ImageGenEngine
import Logging

/// `imagegen-bench rate`: rate-bound throughput. Three styles × k keys (each its own project, or
/// shared by the styles) render a storyboard of `cut` beats through the real Gemini provider
/// against an in-process fake whose limiter (sliding window, fixed window or token bucket) allows
/// `limit` requests per (project, model) per `window`; the engine is paced at the same rate. The
/// bound is the sum of the (project, model) quotas' paces; the headline is achieved images/s ÷ bound.
struct RateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rate", abstract: "Rate-bound throughput against the fake Gemini server.")

    @Option(help: "Beats in the storyboard (all cut); each is rendered in 3 styles.")
    var beats = 240
    @Option(help: "Keys per style, each its own project (see --shared-projects).")
    var keys = 2
    @Flag(help: "Key i of every style belongs to the same project: the styles share k projects.")
    var sharedProjects = false
    @Option(help: "Models of the 3 styles, comma-separated (one name sets all three); default: the styles' own.")
    var models: String?
    @Option(help: "The fake's limiter: \(FakeGeminiLimiter.Kind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var limiter = FakeGeminiLimiter.Kind.slidingWindow.rawValue
    @Option(name: [.customLong("limit"), .customLong("requests-per-window")], help: "Requests the fake accepts per (project, model) per window (R).")
    var limit = 10
    @Option(help: "The fake's rate window, in milliseconds (60000 is Gemini's minute).")
    var windowMs = 3_000
    @Option(help: "The fake's rate window in seconds (overrides --window-ms).")
    var windowSeconds: Double?
    @Option(help: "The token bucket's size (1 = strictly spaced requests).")
    var burst = 1
    @Option(help: "The fake's latency per request, in milliseconds (L).")
    var latencyMs = 500
    @Option(help: "Images excluded at the start of the steady-state rate.")
    var warmup = 10
    @Option(help: "The engine's paceMarginPercent: request starts spaced this much wider than the fake's limit.")
    var paceMargin = EngineConfiguration().paceMarginPercent
    @Flag(help: "Configure no pace: the engine learns each quota's limit (slow start, then the 429s' quotaValue).")
    var auto = false
    @Flag(help: "With --auto: run the job again on a new engine that reads the limits the first kept (a restarted server).")
    var restart = false
    @Flag(help: "Print each quota's first arrivals at the fake (seconds from its first; ! marks a 429) to stderr.")
    var arrivals = false
    @Option(help: "Beats of the sequential (maxConcurrentRequests=1) sample; 0 skips it.")
    var sequentialBeats = 10
    @Flag(help: "Also print the report as JSON.")
    var json = false

    /// The window in milliseconds, from --window-seconds when given.
    var windowMilliseconds: Int { windowSeconds.map { Int(($0 * 1_000).rounded()) } ?? windowMs }

    var styleModels: [String]? { models.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } } }

    var commandLine: String {
        var line = "imagegen-bench rate --beats \(beats) --keys \(keys) --limiter \(limiter) --limit \(limit) --window-ms \(windowMilliseconds) --burst \(burst) --latency-ms \(latencyMs) --pace-margin \(BenchReport.format(paceMargin)) --warmup \(warmup) --sequential-beats \(sequentialBeats)"
        if sharedProjects { line += " --shared-projects" }
        if auto { line += " --auto" }
        if restart { line += " --restart" }
        if let models { line += " --models \(models)" }
        return line
    }

    func validate() throws {
        guard beats >= 1, keys >= 1, limit >= 1, windowMilliseconds >= 100, burst >= 1, latencyMs >= 0, warmup >= 0,
            sequentialBeats >= 0, (0...100).contains(paceMargin) else {
            throw ValidationError("every option must be positive (window at least 100 ms, pace margin 0–100)")
        }
        guard FakeGeminiLimiter.Kind(rawValue: limiter) != nil else { throw ValidationError("unknown limiter \(limiter)") }
        if let styleModels, ![1, StyleConfiguration.defaults.count].contains(styleModels.count) || styleModels.contains(where: \.isEmpty) {
            throw ValidationError("--models takes 1 or \(StyleConfiguration.defaults.count) comma-separated names")
        }
    }

    /// The engine's pace per style: `limit` per window, expressed per minute.
    var requestsPerMinute: Double { Double(limit) * 60_000 / Double(windowMilliseconds) }

    /// The default styles with the bench's keys, models and pace.
    func styles(keys benchKeys: BenchKeys) -> [StyleConfiguration] {
        let spacingMs = Double(windowMilliseconds) / Double(limit)
        let inFlight = max(4, Int((Double(latencyMs) / spacingMs).rounded(.up)) + 2)
        return StyleConfiguration.defaults.enumerated().map { offset, base -> StyleConfiguration in
            var style = base
            style.keys = benchKeys.keysByStyle[style.name] ?? []
            if let styleModels { style.model = styleModels[styleModels.count == 1 ? 0 : offset] }
            style.requestsPerMinute = auto ? nil : requestsPerMinute
            style.maxInFlightPerProject = inFlight
            style.requestTimeout = .seconds(60)
            return style
        }
    }

    func run() async throws {
        var logger = Logger(label: "imagegen-bench")
        logger.logLevel = .error
        let benchKeys = BenchKeys(styles: StyleConfiguration.defaults.map(\.name), count: keys, sharedProjects: sharedProjects)
        let styles = styles(keys: benchKeys)
        let window = Duration.milliseconds(windowMilliseconds)
        let shape = FakeGeminiLimiter.Kind(rawValue: limiter) ?? .slidingWindow
        let fake = FakeGeminiConfiguration(
            keys: benchKeys.fakeKeys, limiter: shape.limiter(requests: limit, window: window, burst: burst),
            latency: .milliseconds(latencyMs))
        // Each (project, model) is its own quota.
        let groups = Set(styles.flatMap { style in style.keys.map { "\($0.project)/\(style.model)" } }).count
        let pace = Double(limit) / window.seconds
        let bound = Double(groups) * pace

        FileHandle.standardError.write(Data("rate: concurrent run of \(beats * styles.count) images…\n".utf8))
        let state = try BenchDirectory("learned")
        defer { state.remove() }
        let limitsFile = state.url.appendingPathComponent(LearnedLimits.fileName)
        var run = GeminiRun(
            fake: fake, styles: styles, storyboard: try BenchStoryboards.cuts(beats: beats), maxConcurrentRequests: nil,
            paceMarginPercent: paceMargin, learnedLimits: try LearnedLimits.load(file: limitsFile))
        let main = try await run.run(logger: logger)

        var report = BenchReport(scenario: "rate", command: commandLine)
        let steady = main.steadyRate(warmup: warmup)
        let whole = Double(main.images) / max(main.wall.seconds, 1e-9)
        let projectsNote = sharedProjects ? "3 styles share \(keys) projects" : "3 styles × \(keys) keys, each key its own project"
        report.add("projects", Double(benchKeys.projectCount), "", projectsNote)
        report.add("quotas", Double(groups), "", "(project, model) pairs, each limited on its own; models: \(Set(styles.map(\.model)).sorted().joined(separator: ", "))")
        report.add("pace per quota", pace, "req/s", "fake: \(shape.rawValue), \(limit) per \(windowMilliseconds) ms\(shape == .tokenBucket ? ", burst \(burst)" : ""); engine requestsPerMinute = \(BenchReport.format(requestsPerMinute)) per style, pace margin \(BenchReport.format(paceMargin)) %")
        report.add("latency", Double(latencyMs), "ms", "fake's delay before each answer")
        report.add("bound", bound, "img/s", "sum of the quotas' paces")
        report.add("images", Double(main.images), "", "done (failed: \(main.failed), job state \(main.state.rawValue))")
        report.add("wall", main.wall.seconds, "s", "whole job")
        report.add("steady rate", steady, "img/s", "from image #\(warmup) to the last")
        report.add("steady rate / bound", steady / bound, "ratio", "images ÷ span ÷ bound after warm-up (counts a burst of parallel quotas at its start: reads high)")
        report.add("quota rate / bound", main.quotaRate(skip: 2) / bound, "ratio", "admitted arrivals per quota, intervals ÷ time after each quota's first 2, summed, ÷ bound", headline: true)
        report.add("quota rate / bound, whole run", main.quotaRate(skip: 0) / bound, "ratio", "the same from each quota's first arrival (a slow start included)", headline: auto)
        report.add("whole-run rate / bound", whole / bound, "ratio", "images ÷ wall ÷ bound, warm-up included")
        report.add("requests", Double(main.requestLog.count), "", "generateContent requests the fake saw")
        report.add("429 share", Double(main.rateLimitedRequests) / Double(max(main.requestLog.count, 1)), "ratio", "per-minute 429s ÷ requests (fake's log)", headline: true)
        if arrivals { Self.printArrivals(main.requestLog) }
        if restart {
            FileHandle.standardError.write(Data("rate: second run on a restarted engine with the learned limits…\n".utf8))
            run.learnedLimits = try LearnedLimits.load(file: limitsFile)
            let learned = run.learnedLimits.entries.values.map(\.requestsPerMinute)
            report.add("learned quotas", Double(learned.count), "", "limits read back from \(LearnedLimits.fileName): \(Set(learned).sorted().map { BenchReport.format($0) }.joined(separator: ", ")) per minute")
            let second = try await run.run(logger: logger)
            report.add("restarted: quota rate / bound", second.quotaRate(skip: 2) / bound, "ratio", "second run, new engine, limits read from the state file", headline: true)
            report.add("restarted: 429 share", Double(second.rateLimitedRequests) / Double(max(second.requestLog.count, 1)), "ratio", "second run's per-minute 429s ÷ requests", headline: true)
        }

        if sequentialBeats > 0 {
            try await addSequentialSample(to: &report, fake: fake, styles: styles, mainImages: main.images, mainWall: main.wall, logger: logger)
        }
        report.print(json: json)
    }

    private func addSequentialSample(
        to report: inout BenchReport, fake: FakeGeminiConfiguration, styles: [StyleConfiguration], mainImages: Int,
        mainWall: Duration, logger: Logger
    ) async throws {
        FileHandle.standardError.write(Data("rate: sequential sample of \(sequentialBeats * styles.count) images…\n".utf8))
        let sequential = try await GeminiRun(
            fake: fake, styles: styles, storyboard: try BenchStoryboards.cuts(beats: sequentialBeats),
            maxConcurrentRequests: 1
        ).run(logger: logger)
        let perImage = sequential.wall.seconds / Double(max(sequential.images, 1))
        let extrapolated = perImage * Double(mainImages)
        report.add("sequential images", Double(sequential.images), "", "sample with maxConcurrentRequests=1, same configuration")
        report.add("sequential per image", perImage, "s", "sample wall ÷ sample images")
        report.add("sequential extrapolated", extrapolated, "s", "per image × \(mainImages) images (extrapolated, not run)")
        report.add("speedup", extrapolated / max(mainWall.seconds, 1e-9), "ratio", "extrapolated sequential wall ÷ concurrent wall", headline: true)
        report.notes.append("the sequential time is extrapolated per image from a \(sequential.images)-image sample run with maxConcurrentRequests=1")
    }

    /// Each quota's first 12 arrivals at the fake, in seconds from its first; `!` marks a refusal.
    static func printArrivals(_ log: [FakeGeminiRequestLogEntry]) {
        let byQuota = Dictionary(grouping: log) { "\($0.project ?? "?")/\($0.model)" }
        for (quota, entries) in byQuota.sorted(by: { $0.key < $1.key }) {
            let t0 = entries.first?.time ?? Date()
            let times = entries.prefix(12).map { ($0.status == 200 ? "" : "!") + String(format: "%.3f", $0.time.timeIntervalSince(t0)) }
            FileHandle.standardError.write(Data("\(quota): \(times.joined(separator: " "))\n".utf8))
        }
    }
}
