import ArgumentParser
import Foundation
import ImageGenClient
import ImageGenEngine
import ImageGenWire

/// `imagegen-bench load`: the load test of issue 5 in a release build. An in-process server
/// (``BenchServer``) runs the same job twice, alone and while N clients each call GetStatus and
/// watch it from seq 0; reports the job's duration with ÷ without watchers and what the watchers
/// cost in CPU. The offline renderer waits `latency` per image like a remote model does, so the job
/// is paced by its provider, as every real job is.
struct LoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load", abstract: "Load: a job's duration alone ÷ with N clients watching it.")

    @Option(help: "Clients, each calling GetStatus then WatchJob from seq 0 on its own connection.")
    var watchers = 200
    @Option(help: "Shots × beats of the job (cut beats, 3 styles).")
    var shots = 4
    @Option(help: "Beats per shot.")
    var beatsPerShot = 8
    @Option(help: "Milliseconds the offline renderer waits per image (a remote model's latency).")
    var latencyMs = 150
    @Option(help: "Images rendered at once per style.")
    var concurrency = 2
    @Option(help: "The service's event flush interval in milliseconds (imagegen-server --event-flush-ms).")
    var flushMs = 50
    @Flag(help: "Also print the report as JSON.")
    var json = false

    var commandLine: String {
        "imagegen-bench load --watchers \(watchers) --shots \(shots) --beats-per-shot \(beatsPerShot)"
            + " --latency-ms \(latencyMs) --concurrency \(concurrency) --flush-ms \(flushMs)"
    }

    func validate() throws {
        guard watchers >= 1, watchers <= 1_000, shots >= 1, beatsPerShot >= 1, latencyMs >= 0, concurrency >= 1, flushMs >= 0 else {
            throw ValidationError("options must be positive (at most 1000 watchers)")
        }
    }

    func run() async throws {
        let server = BenchServer(
            offline: OfflineSettings(latency: .milliseconds(latencyMs), concurrency: concurrency),
            eventFlushInterval: .milliseconds(flushMs))
        let command = self
        let report = try await server.run(label: "load", projects: ["warmup", "quiet", "loaded"]) { port in
            try await command.measure(port: port)
        }
        report.print(json: json)
    }

    /// What one watcher saw: events, whether they were gapless and ended with `finished`, or its error.
    private struct WatcherOutcome: Sendable {
        var events = 0
        var failure: String?
    }

    private func measure(port: Int) async throws -> BenchReport {
        var report = BenchReport(scenario: "load", command: commandLine)
        report.notes.append("server and clients run in this one process and share its \(ProcessStats.processorCount) cores")
        let starter = try await ImageGenerationClient.connect(host: "127.0.0.1", port: port)
        defer { starter.close() }
        _ = try await runJob(starter, project: "warmup", storyboard: storyboard(shots: 1, beatsPerShot: 2))

        FileHandle.standardError.write(Data("load: the job alone…\n".utf8))
        let cpu0 = ProcessStats.cpuSeconds()
        let quiet = try await runJob(starter, project: "quiet", storyboard: storyboard(shots: shots, beatsPerShot: beatsPerShot))
        let cpu1 = ProcessStats.cpuSeconds()

        FileHandle.standardError.write(Data("load: the job with \(watchers) clients watching…\n".utf8))
        var clients: [ImageGenerationClient] = []
        defer { for client in clients { client.close() } }
        for _ in 0..<watchers { clients.append(try await ImageGenerationClient.connect(host: "127.0.0.1", port: port)) }
        let cpu2 = ProcessStats.cpuSeconds()
        var jobID = ""
        for try await event in try await starter.startGeneration(
            StartGenerationRequest(projectDir: "loaded", storyboard: storyboard(shots: shots, beatsPerShot: beatsPerShot), detach: true))
        {
            jobID = event.jobID
        }
        let id = jobID
        let outcomes = await withTaskGroup(of: WatcherOutcome.self) { group in
            for client in clients {
                group.addTask { await Self.watch(id, with: client) }
            }
            return await group.reduce(into: [WatcherOutcome]()) { $0.append($1) }
        }
        let loaded = try await starter.getStatus(.jobID(id))
        let cpu3 = ProcessStats.cpuSeconds()

        let quietMs = Double(quiet.finishedUnixMs - quiet.startedUnixMs)
        let loadedMs = Double(loaded.finishedUnixMs - loaded.startedUnixMs)
        let deliveries = outcomes.reduce(0) { $0 + $1.events }
        let failures = outcomes.compactMap(\.failure)
        report.add("job alone", quietMs, "ms", "\(quiet.state), \(quiet.lastSeq) events")
        report.add("job with \(watchers) watchers", loadedMs, "ms", "\(loaded.state), \(loaded.lastSeq) events")
        report.add("with ÷ without", loadedMs / max(quietMs, 1), "ratio", "the issue's target: ≤ 1.10", headline: true)
        report.add("failed clients", Double(failures.count), "", failures.first ?? "none", headline: true)
        report.add("events delivered", Double(deliveries), "", "\(watchers) watchers")
        report.add("CPU, job alone", cpu1 - cpu0, "s", "this process (server and the one starting client)")
        report.add("CPU, job with watchers", cpu3 - cpu2, "s", "this process (server and \(watchers) clients)")
        report.add(
            "CPU per delivered event", (cpu3 - cpu2 - (cpu1 - cpu0)) / Double(max(deliveries, 1)) * 1e6, "µs",
            "server encode/send and client receive/decode, above the job's own")
        return report
    }

    private func storyboard(shots: Int, beatsPerShot: Int) -> Storyboard {
        Storyboard(
            shots: (1...shots).map { shot in
                Shot(
                    id: "s\(shot)",
                    beats: (1...beatsPerShot).map { beat in
                        Beat(id: "b\(beat)", prompt: "load bench \(shot).\(beat): a train crossing the plains", transition: .cut)
                    })
            })
    }

    /// Runs a job to its end on the starting client's stream and returns its final status.
    private func runJob(_ client: ImageGenerationClient, project: String, storyboard: Storyboard) async throws -> JobStatus {
        var jobID = ""
        for try await event in try await client.startGeneration(StartGenerationRequest(projectDir: project, storyboard: storyboard)) {
            jobID = event.jobID
        }
        let status = try await client.getStatus(.jobID(jobID))
        guard status.state == .completed else { throw ValidationError("job \(project) ended \(status.state): \(status.message)") }
        return status
    }

    /// One client: GetStatus, then WatchJob from seq 0 to the end, checking the sequence.
    private static func watch(_ jobID: String, with client: ImageGenerationClient) async -> WatcherOutcome {
        var outcome = WatcherOutcome()
        do {
            _ = try await client.getStatus(.jobID(jobID))
            var last: UInt64 = 0
            var finished = false
            for try await event in try await client.watchJob(jobID, afterSeq: 0) {
                outcome.events += 1
                if event.seq != last + 1, outcome.failure == nil { outcome.failure = "seq \(event.seq) after \(last)" }
                last = event.seq
                if case .finished = event.kind { finished = true }
            }
            if !finished, outcome.failure == nil { outcome.failure = "the stream ended without finished" }
        } catch {
            outcome.failure = "\(error)"
        }
        return outcome
    }
}
