import ArgumentParser
import FakeGemini
import Foundation
import ImageGenEngine
import Logging

/// `imagegen-bench continuity`: every beat a `continue` beat in a few long shots, style
/// `consistent` with continuity on, against the fake with latency L and no pace limit. Each shot is
/// a chain, so the bound is chain length × L; the headline is actual wall ÷ bound.
struct ContinuityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "continuity", abstract: "Continuity chains: actual time ÷ chain length × latency.")

    @Option(help: "Shots (independent chains).")
    var shots = 4
    @Option(help: "Beats per shot (the chain length).")
    var beatsPerShot = 50
    @Option(help: "The fake's latency per request, in milliseconds (L).")
    var latencyMs = 200
    @Flag(help: "Also print the report as JSON.")
    var json = false

    var commandLine: String {
        "imagegen-bench continuity --shots \(shots) --beats-per-shot \(beatsPerShot) --latency-ms \(latencyMs)"
    }

    func validate() throws {
        guard shots >= 1, beatsPerShot >= 1, latencyMs >= 1 else { throw ValidationError("every option must be positive") }
    }

    func run() async throws {
        var logger = Logger(label: "imagegen-bench")
        logger.logLevel = .error
        let benchKeys = BenchKeys(styles: ["consistent"], count: 1)
        guard var style = StyleConfiguration.defaults.first(where: { $0.name == "consistent" }) else { return }
        style.continuity = true
        style.keys = benchKeys.keysByStyle["consistent"] ?? []
        style.requestsPerMinute = 0
        style.maxInFlightPerProject = shots * 2
        style.requestTimeout = .seconds(60)
        let fake = FakeGeminiConfiguration(keys: benchKeys.fakeKeys, latency: .milliseconds(latencyMs))
        FileHandle.standardError.write(Data("continuity: \(shots) chains of \(beatsPerShot)…\n".utf8))
        let result = try await GeminiRun(
            fake: fake, styles: [style], storyboard: try BenchStoryboards.chains(shots: shots, beatsPerShot: beatsPerShot),
            maxConcurrentRequests: nil
        ).run(logger: logger)
        let bound = Double(beatsPerShot) * Double(latencyMs) / 1_000
        let withReference = result.requestLog.filter { $0.referenceCount > 0 }.count
        var report = BenchReport(scenario: "continuity", command: commandLine)
        report.add("chains", Double(shots), "", "shots, all beats continue, style consistent with continuity on")
        report.add("chain length", Double(beatsPerShot), "", "beats per shot")
        report.add("latency", Double(latencyMs), "ms", "fake's delay before each answer (no pace limit)")
        report.add("images", Double(result.images), "", "done (failed: \(result.failed), job state \(result.state.rawValue))")
        report.add("requests with a reference", Double(withReference), "", "requests carrying the predecessor's image")
        report.add("bound", bound, "s", "chain length × latency")
        report.add("actual", result.wall.seconds, "s", "job wall time")
        report.add("actual / bound", result.wall.seconds / bound, "ratio", "1.0 is perfect; above it is per-link overhead", headline: true)
        report.add("overhead per link", (result.wall.seconds - bound) / Double(beatsPerShot) * 1_000, "ms", "(actual − bound) ÷ chain length")
        report.print(json: json)
    }
}
