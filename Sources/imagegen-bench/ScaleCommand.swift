import ArgumentParser
import Foundation

/// `imagegen-bench scale`: the offline renderer with no latency at several storyboard sizes × 3
/// styles, each size in a fresh child process (`scale-run`) so its peak RSS is its own. Reports
/// images/s, bookkeeping CPU per image at each size, the largest ÷ smallest ratio of it, and VmHWM.
struct ScaleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scale", abstract: "Scale: images/s, bookkeeping per image and peak RSS by storyboard size.")

    @Option(help: "Comma-separated storyboard sizes in beats (each rendered in 3 styles).")
    var sizes = "1000,10000,30000"
    @Option(help: "none, full, or both.")
    var durability = "none"
    @Option(help: "Offline image width.")
    var width = 64
    @Option(help: "Offline image height.")
    var height = 36
    @Flag(help: "Also print the report as JSON.")
    var json = false

    var commandLine: String {
        "imagegen-bench scale --sizes \(sizes) --durability \(durability) --width \(width) --height \(height)"
    }

    func run() async throws {
        let beatSizes = sizes.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !beatSizes.isEmpty, beatSizes.allSatisfy({ $0 >= 1 }) else { throw ValidationError("--sizes: positive integers") }
        let modes: [String]
        switch durability {
        case "none", "full": modes = [durability]
        case "both": modes = ["none", "full"]
        default: throw ValidationError("--durability must be none, full or both")
        }
        var report = BenchReport(scenario: "scale", command: commandLine)
        report.notes.append("offline renderer, no latency, \(width)×\(height) images, 3 styles, each size in a fresh child process (scale-run)")
        report.notes.append("bookkeeping = process CPU during the job ÷ images − render CPU per image (OfflineProvider.render timed alone on one thread before the job)")
        for mode in modes {
            var measurements: [ScaleMeasurement] = []
            for size in beatSizes {
                FileHandle.standardError.write(Data("scale: \(size) beats × 3 styles, durability \(mode)…\n".utf8))
                let measurement = try await Self.child(beats: size, durability: mode, width: width, height: height)
                measurements.append(measurement)
                let tag = "\(mode) \(size)"
                report.add("[\(tag)] images", Double(measurement.images), "", "done (failed \(measurement.failed))")
                report.add("[\(tag)] wall", measurement.wallSeconds, "s", "job wall time")
                report.add("[\(tag)] images/s", measurement.imagesPerSecond, "img/s", "images ÷ wall")
                report.add("[\(tag)] wall per image", measurement.wallPerImageSeconds * 1e6, "µs", "wall ÷ images")
                report.add("[\(tag)] render CPU per image", measurement.renderCPUPerImageSeconds * 1e6, "µs", "OfflineProvider.render alone")
                report.add("[\(tag)] PNG size", measurement.renderBytesPerImage, "B", "mean bytes per image drawn by OfflineProvider.render")
                report.add("[\(tag)] bookkeeping CPU per image", measurement.bookkeepingCPUPerImageSeconds * 1e6, "µs", "job CPU ÷ images − render CPU")
                report.add("[\(tag)] peak RSS", measurement.peakRSSBytes / 1_048_576, "MiB", "VmHWM of the child (start: \(BenchReport.format(measurement.startRSSBytes / 1_048_576)) MiB)")
            }
            if let first = measurements.first, let last = measurements.last, measurements.count > 1 {
                report.add(
                    "[\(mode)] bookkeeping/img \(last.beats) ÷ \(first.beats)",
                    last.bookkeepingCPUPerImageSeconds / max(first.bookkeepingCPUPerImageSeconds, 1e-12), "ratio",
                    "1.0 = constant per image (no O(n) work per image)", headline: true)
                report.add(
                    "[\(mode)] wall/img \(last.beats) ÷ \(first.beats)",
                    last.wallPerImageSeconds / max(first.wallPerImageSeconds, 1e-12), "ratio", "wall per image, same sizes",
                    headline: true)
            }
        }
        report.print(json: json)
    }

    /// Runs `scale-run` for one size in a child process of this executable and decodes its line.
    static func child(beats: Int, durability: String, width: Int, height: Int) async throws -> ScaleMeasurement {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = [
            "scale-run", "--beats", "\(beats)", "--durability", durability, "--width", "\(width)", "--height", "\(height)",
        ]
        let output = Pipe()
        process.standardOutput = output
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { finished in continuation.resume(returning: finished.terminationStatus) }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        guard status == 0 else { throw ValidationError("scale-run \(beats) exited with \(status)") }
        guard let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last else {
            throw ValidationError("scale-run \(beats) printed nothing")
        }
        return try JSONDecoder().decode(ScaleMeasurement.self, from: Data(line.utf8))
    }
}
