import ArgumentParser
import FakeGemini
import Foundation
import ImageGenClient
import ImageGenEngine
import Logging

/// `imagegen-bench batch`: the sample storyboard (`imagegen demo`'s) in all three styles, once
/// online and once in Batch API batches, against the fake with stated latencies: what each cost
/// by the engine's count and how long each took. The headlines are the two ratios.
struct BatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch", abstract: "Online vs batch delivery of the sample storyboard: cost and wall time.")

    @Option(help: "The fake's latency per online request, in milliseconds.")
    var onlineLatencyMs = 2_000
    @Option(help: "The fake's pace limit per project and model, requests per minute (online).")
    var rpm = 20
    @Option(help: "How long each batch stays PENDING at the fake, in seconds.")
    var batchPendingSeconds = 10.0
    @Option(help: "How long each batch runs at the fake, in seconds.")
    var batchRunningSeconds = 5.0
    @Option(help: "The engine's first poll of a batch, in seconds (doubling up to 4×).")
    var pollSeconds = 1.0
    @Flag(help: "Also print the report as JSON.")
    var json = false

    var commandLine: String {
        "imagegen-bench batch --online-latency-ms \(onlineLatencyMs) --rpm \(rpm) --batch-pending-seconds \(batchPendingSeconds)"
            + " --batch-running-seconds \(batchRunningSeconds) --poll-seconds \(pollSeconds)"
    }

    func validate() throws {
        guard onlineLatencyMs >= 0, rpm >= 1, batchPendingSeconds >= 0, batchRunningSeconds >= 0, pollSeconds > 0 else {
            throw ValidationError("latencies must be 0 or more, --rpm and --poll-seconds above 0")
        }
    }

    func run() async throws {
        var logger = Logger(label: "imagegen-bench")
        logger.logLevel = .error
        let storyboard = try ValidatedStoryboard.parse(json: Data(SampleStoryboard.json.utf8))
        let benchKeys = BenchKeys(styles: StyleConfiguration.defaults.map(\.name), count: 1)
        let fake = FakeGeminiConfiguration(
            keys: benchKeys.fakeKeys, requestsPerMinute: rpm, latency: .milliseconds(onlineLatencyMs),
            batchPendingTime: .milliseconds(Int64(batchPendingSeconds * 1000)),
            batchRunningTime: .milliseconds(Int64(batchRunningSeconds * 1000)))
        var results: [Delivery: GeminiRunResult] = [:]
        for delivery in [Delivery.online, .batch] {
            FileHandle.standardError.write(Data("batch: the sample storyboard, \(delivery.rawValue)…\n".utf8))
            let styles = StyleConfiguration.defaults.map { base in
                var style = base
                style.keys = benchKeys.keysByStyle[style.name] ?? []
                style.requestsPerMinute = Double(rpm)
                style.delivery = delivery
                style.batch = BatchSettings(
                    pollInitial: .milliseconds(Int64(pollSeconds * 1000)), pollMax: .milliseconds(Int64(pollSeconds * 4000)))
                style.requestTimeout = .seconds(60)
                return style
            }
            results[delivery] = try await GeminiRun(fake: fake, styles: styles, storyboard: storyboard, maxConcurrentRequests: nil)
                .run(logger: logger)
        }
        guard let online = results[.online], let batch = results[.batch] else { return }
        report(online: online, batch: batch, beats: storyboard.beatCount)
    }

    private func report(online: GeminiRunResult, batch: GeminiRunResult, beats: Int) {
        func cost(_ result: GeminiRunResult) -> Double { result.spend.reduce(0) { $0 + $1.estimatedCostUSD } }
        var report = BenchReport(scenario: "batch", command: commandLine)
        report.add("images", Double(beats * 3), "", "the sample storyboard (\(beats) beats) in 3 styles")
        report.add("online images", Double(online.images), "", "done online (failed \(online.failed), \(online.state.rawValue))")
        report.add("batch images", Double(batch.images), "", "done in batch (failed \(batch.failed), \(batch.state.rawValue))")
        report.add("batches", Double(batch.batches.count), "", "created by the batch run (one per wave, style and project)")
        report.add("online requests in the batch run", Double(batch.requestLog.filter { $0.lane == nil }.count), "", "should be 0")
        report.add("cost online", cost(online), "USD", "estimated, at the default prices")
        report.add("cost batch", cost(batch), "USD", "estimated, at the default batch prices")
        report.add("cost batch / online", cost(batch) / max(cost(online), 1e-12), "ratio", "0.5 is the Batch API's discount", headline: true)
        report.add("wall online", online.wall.seconds, "s", "\(onlineLatencyMs) ms per request, \(rpm) per minute per project")
        report.add("wall batch", batch.wall.seconds, "s", "each batch \(batchPendingSeconds) s pending + \(batchRunningSeconds) s running")
        report.add("wall batch / online", batch.wall.seconds / max(online.wall.seconds, 1e-9), "ratio", "what the discount costs in time", headline: true)
        report.print(json: json)
    }
}
