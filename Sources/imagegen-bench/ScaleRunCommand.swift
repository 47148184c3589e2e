import ArgumentParser
import Foundation
import ImageGenEngine
import Logging

/// `imagegen-bench scale-run` (internal, run by `scale` in a fresh child process per size): renders
/// `beats` cut beats in the 3 built-in styles with the offline renderer and no latency, and prints
/// one ``ScaleMeasurement`` as a JSON line.
struct ScaleRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scale-run", abstract: "One size of the scale benchmark (run by `scale`).", shouldDisplay: false)

    @Option(help: "Beats (all cut), rendered in 3 styles.")
    var beats = 1_000
    @Option(help: "none or full.")
    var durability = "none"
    @Option(help: "Offline image width.")
    var width = 64
    @Option(help: "Offline image height.")
    var height = 36

    func run() async throws {
        guard let mode = EngineConfiguration.Durability(rawValue: durability) else {
            throw ValidationError("durability must be none or full")
        }
        var logger = Logger(label: "imagegen-bench")
        logger.logLevel = .error
        let startRSS = ProcessStats.currentRSSBytes()
        let directory = try BenchDirectory("scale")
        defer { directory.remove() }
        let project = try directory.subdirectory("project")
        let styles = StyleConfiguration.defaults
        let (renderCPU, renderBytes) = try Self.renderCost(styles: styles.map(\.name), width: width, height: height)
        let storyboard = try BenchStoryboards.cuts(beats: beats)
        let configuration = EngineConfiguration(
            styles: styles, durability: mode, offline: OfflineSettings(width: width, height: height))
        let engine = ImageEngine(configuration: configuration, logger: logger)
        let job = try engine.makeJob(storyboard: storyboard, project: project)
        let cpuBefore = ProcessStats.cpuSeconds()
        let (done, failed, summary) = await withTaskGroup(of: (Int, Int, JobSummary?).self) { group in
            group.addTask {
                var done = 0
                var failed = 0
                for await event in job.events {
                    if case .beat(let beat) = event {
                        if beat.state == .done { done += 1 }
                        if beat.state == .failed { failed += 1 }
                    }
                }
                return (done, failed, nil)
            }
            group.addTask { (0, 0, await job.run()) }
            var done = 0
            var failed = 0
            var summary: JobSummary?
            for await (someDone, someFailed, someSummary) in group {
                done += someDone
                failed += someFailed
                if let someSummary { summary = someSummary }
            }
            return (done, failed, summary)
        }
        let cpu = ProcessStats.cpuSeconds() - cpuBefore
        let measurement = ScaleMeasurement(
            beats: beats, styles: styles.count, images: done, failed: failed, durability: mode.rawValue,
            wallSeconds: summary?.duration.seconds ?? 0, jobCPUSeconds: cpu, renderCPUPerImageSeconds: renderCPU,
            renderBytesPerImage: renderBytes,
            peakRSSBytes: ProcessStats.peakRSSBytes(), startRSSBytes: startRSS)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(measurement), as: UTF8.self))
    }

    /// CPU seconds and PNG bytes per image of `OfflineProvider.render` alone, on this thread.
    static func renderCost(styles: [String], width: Int, height: Int) throws -> (seconds: Double, bytes: Double) {
        let samples = 300
        var bytes = 0
        let before = ProcessStats.cpuSeconds()
        for index in 0..<samples {
            let style = styles[index % styles.count]
            bytes &+= try OfflineProvider.render(
                style: style, prompt: "bench frame \(index) of shot \(index / 100 + 1)", width: width, height: height
            ).count
        }
        let elapsed = ProcessStats.cpuSeconds() - before
        return (bytes > 0 ? elapsed / Double(samples) : 0, Double(bytes) / Double(samples))
    }
}
