public import ArgumentParser
public import ImageGenWire

/// `imagegen status (JOB | --project DIR) [--beats] [--json]`.
public struct StatusCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show a job's status, or a project's (from its files, with no job running).")

    @OptionGroup public var client: ClientOptions

    @Argument(help: "The job id.")
    public var job: String?

    @Option(name: .long, help: "A project directory under the server's projects root, instead of a job id.")
    public var project: String?

    @Flag(name: .long, help: "Include every beat.")
    public var beats = false

    @Flag(name: .long, help: "Print JSON.")
    public var json = false

    public init() {}

    public func validate() throws {
        guard (job == nil) != (project == nil) else { throw ValidationError("name a job id or --project DIR (one of them)") }
    }

    public func run() async throws {
        let connection = try await client.connect()
        defer { connection.close() }
        let target: GetStatusRequest.Target = job.map { .jobID($0) } ?? .projectDir(project ?? "")
        let status = try await connection.getStatus(target, includeBeats: beats)
        writeToStandardOutput((json ? EventFormatter.jsonLine(status) : StatusText.describe(status)) + "\n")
    }
}

/// Human-readable job status.
public enum StatusText {
    public static func describe(_ status: JobStatus) -> String {
        var lines = ["job \(status.jobID.isEmpty ? "(none running)" : status.jobID)  \(EventFormatter.name(status.state))  project \(status.projectDir)"]
        for style in status.styles {
            var line = "  \(style.style): \(style.completed)/\(style.total) " + String(format: "%.1f%%", style.percent)
            if style.failed > 0 { line += ", \(style.failed) failed" }
            if style.inFlight > 0 { line += ", \(style.inFlight) in flight" }
            if style.inBatch > 0 { line += ", \(style.inBatch) in batch" + (style.batch.map { " (wave \($0.wave), \($0.state))" } ?? "") }
            lines.append(line)
        }
        if !status.message.isEmpty { lines.append("  \(status.message)") }
        if !status.coordinationProblem.isEmpty { lines.append("  no request starts: \(status.coordinationProblem)") }
        let usage = status.usage
        if usage.requests > 0 {
            lines.append("  spend: \(usage.requests) requests (\(usage.batchRequests) in batches), \(usage.images) images, \(usage.wastedBilledAttempts) billed without image, \(usage.totalTokens) tokens")
        }
        if usage.estimatedCostUSD > 0 {
            lines.append("  estimated cost: " + String(format: "$%.3f", usage.estimatedCostUSD)
                + (usage.wastedCostUSD > 0 ? String(format: ", of which $%.3f gave no image", usage.wastedCostUSD) : ""))
        }
        for beat in status.beats {
            var line = "  \(beat.style) \(beat.shotID)/\(beat.beatID) \(EventFormatter.name(beat.state))"
            if !beat.outputPath.isEmpty { line += " \(beat.outputPath)" }
            if !beat.lane.isEmpty { line += " \(beat.lane)" + String(format: " $%.3f", beat.estimatedCostUSD) }
            if !beat.error.isEmpty { line += " error: \(beat.error)" }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}
