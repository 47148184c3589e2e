public import ArgumentParser
import ImageGenWire

/// `imagegen jobs`: the server's jobs, one line each.
public struct JobsCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "jobs", abstract: "List the server's jobs.")

    @OptionGroup public var client: ClientOptions

    @Flag(name: .long, help: "Print JSON lines.")
    public var json = false

    public init() {}

    public func run() async throws {
        let connection = try await client.connect()
        defer { connection.close() }
        for job in try await connection.listJobs() {
            if json {
                writeToStandardOutput(EventFormatter.jsonLine(job) + "\n")
            } else {
                let done = job.styles.reduce(0) { $0 + Int($1.completed) }
                let total = job.styles.reduce(0) { $0 + Int($1.total) }
                writeToStandardOutput("\(job.jobID)  \(EventFormatter.name(job.state))  \(done)/\(total)  \(job.projectDir)\n")
            }
        }
    }
}
