public import ArgumentParser
import Foundation
import ImageGenEngine
import Logging

/// `imagegen estimate STORYBOARD`: what a run would generate and cost, per style, online and in
/// batches, and how many waves its chains need; before anything is sent, and without a server.
public struct EstimateCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "estimate",
        abstract: "Estimate a run's images and cost per style (online and batch) and its batch waves, without sending anything.")

    @Argument(help: "The storyboard JSON file.")
    public var storyboard: String

    @Option(name: .long, help: "The project directory (default: the storyboard file's folder): what is done there is left out.")
    public var project: String?

    @Option(name: .long, help: "The server's configuration file (default: the built-in defaults and the environment).")
    public var config: String?

    @Option(name: .long, help: "Comma-separated styles (default: every configured style).")
    public var styles: String?

    @Option(name: .long, help: "online, batch or auto: the delivery to report (default: each style's).")
    public var delivery: String?

    @Flag(name: .long, help: "Print the estimate as JSON.")
    public var json = false

    public init() {}

    public func validate() throws {
        _ = try GenerateCommand.delivery(delivery)
    }

    public func run() async throws {
        let file = URL(fileURLWithPath: storyboard)
        let projectURL = project.map { URL(fileURLWithPath: $0, isDirectory: true) } ?? file.deletingLastPathComponent()
        let estimates: [CostEstimate]
        do throws(EngineError) {
            let configuration = try EngineConfiguration.load(
                file: config.map { URL(fileURLWithPath: $0) }, environment: ProcessInfo.processInfo.environment)
            let board = try ValidatedStoryboard.load(contentsOf: file)
            let directory = try ProjectDirectory(url: projectURL)
            let selected = styles.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
            let options = JobOptions(styles: selected, delivery: try? Self.engineDelivery(delivery))
            var logger = Logger(label: "imagegen-estimate")
            logger.logLevel = .critical
            estimates = try await ImageEngine(configuration: configuration, logger: logger).estimate(storyboard: board, directory: directory, options: options)
        } catch {
            throw ValidationError(error.description)
        }
        writeToStandardOutput(json ? Self.json(estimates) + "\n" : Self.table(estimates))
    }

    static func engineDelivery(_ text: String?) throws -> Delivery? {
        switch try GenerateCommand.delivery(text) {
        case .unspecified: nil
        case .online: .online
        case .batch: .batch
        case .auto: .auto
        }
    }

    /// "$0.402", or "unpriced".
    static func dollars(_ value: Double?) -> String {
        value.map { String(format: "$%.3f", $0) } ?? "unpriced"
    }

    /// One line per style and a total line.
    static func table(_ estimates: [CostEstimate]) -> String {
        var text = ""
        for estimate in estimates {
            text += "\(estimate.style) (\(estimate.model) \(estimate.imageSize ?? "1K"), delivery \(estimate.delivery.rawValue)): "
                + "\(estimate.toGenerate) to generate, \(estimate.skipped) done"
                + (estimate.inBatch > 0 ? ", \(estimate.inBatch) in batches already" : "")
                + "; online \(dollars(estimate.onlineCostUSD)), batch \(dollars(estimate.batchCostUSD)); \(estimate.waves) wave\(estimate.waves == 1 ? "" : "s")"
                + (estimate.note.map { " (\($0))" } ?? "") + "\n"
        }
        let images = estimates.reduce(0) { $0 + $1.toGenerate }
        func sum(_ cost: (CostEstimate) -> Double?) -> Double? {
            estimates.reduce(Double?(0)) { total, estimate in total.flatMap { total in cost(estimate).map { total + $0 } } }
        }
        text += "total: \(images) images; online \(dollars(sum(\.onlineCostUSD))), batch \(dollars(sum(\.batchCostUSD)))\n"
        return text
    }

    static func json(_ estimates: [CostEstimate]) -> String {
        EventFormatter.jsonText([
            "styles": estimates.map { estimate in
                var object: [String: Any] = [
                    "style": estimate.style, "model": estimate.model, "image_size": estimate.imageSize ?? "1K",
                    "total": estimate.total, "skipped": estimate.skipped, "to_generate": estimate.toGenerate,
                    "in_batch": estimate.inBatch, "waves": estimate.waves, "delivery": estimate.delivery.rawValue,
                ]
                object["online_cost_usd"] = estimate.onlineCostUSD ?? NSNull()
                object["batch_cost_usd"] = estimate.batchCostUSD ?? NSNull()
                if let note = estimate.note { object["note"] = note }
                return object
            },
        ])
    }
}
