import ArgumentParser
import Foundation
import ImageGenClient
import ImageGenEngine
import ImageGenRPC
import ImageGenService
import ImageGenWire
import Logging

/// `imagegen-bench rpc`: an in-process server (``BenchServer``) with one finished job; measures GetStatus calls/s and p50/p99 latency over 1 and
/// over N connections, then ProgressEvent delivery/s to 1 and to M watchers replaying the job from 0.
/// Client and server share this process (and its cores).
struct RPCCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rpc", abstract: "RPC: GetStatus calls/s and latency; WatchJob event delivery/s.")

    @Option(help: "Beats of the finished job (cut, 3 styles); more beats, more events.")
    var beats = 1_000
    @Option(help: "Seconds of each GetStatus measurement.")
    var seconds = 5.0
    @Option(help: "Connections of the concurrent GetStatus measurement.")
    var connections = 16
    @Option(help: "Watchers of the concurrent WatchJob measurement (each on its own connection).")
    var watchers = 100
    @Flag(help: "Also print the report as JSON.")
    var json = false

    var commandLine: String {
        "imagegen-bench rpc --beats \(beats) --seconds \(seconds) --connections \(connections) --watchers \(watchers)"
    }

    func validate() throws {
        guard beats >= 1, seconds > 0, connections >= 1, watchers >= 1, watchers <= 1_000 else {
            throw ValidationError("options must be positive (at most 1000 watchers)")
        }
    }

    func run() async throws {
        let server = BenchServer(
            offline: OfflineSettings(width: 32, height: 18, latency: .zero, concurrency: 4),
            eventRetention: 10_000_000, watcherBuffer: 10_000_000)
        let command = self
        let report = try await server.run(label: "rpc", projects: ["bench"]) { port in try await command.measure(port: port) }
        report.print(json: json)
    }

    private func measure(port: Int) async throws -> BenchReport {
        var report = BenchReport(scenario: "rpc", command: commandLine)
        report.notes.append("server and clients run in this one process and share its \(ProcessStats.processorCount) cores")
        // The finished job.
        FileHandle.standardError.write(Data("rpc: rendering the job (\(beats) beats × 3 styles)…\n".utf8))
        let starter = try await ImageGenerationClient.connect(host: "127.0.0.1", port: port)
        defer { starter.close() }
        let storyboard = Storyboard(
            shots: stride(from: 0, to: beats, by: 100).map { first in
                Shot(
                    id: "s\(first / 100 + 1)",
                    beats: (first..<min(first + 100, beats)).map { index in
                        Beat(id: "b\(index + 1)", prompt: "rpc bench frame \(index + 1)", transition: .cut)
                    })
            })
        var jobID = ""
        var finished = false
        for try await event in try await starter.startGeneration(StartGenerationRequest(projectDir: "bench", storyboard: storyboard)) {
            jobID = event.jobID
            if case .finished = event.kind { finished = true }
        }
        guard finished, !jobID.isEmpty else { throw ValidationError("the job did not finish") }
        let status = try await starter.getStatus(.jobID(jobID))
        report.add("job events", Double(status.lastSeq), "", "events of the finished job (state \(status.state))")

        // GetStatus over 1 connection, then over N.
        for count in [1, connections] {
            FileHandle.standardError.write(Data("rpc: GetStatus over \(count) connection(s)…\n".utf8))
            let (calls, elapsed, sample) = try await getStatusLoad(port: port, jobID: jobID, connections: count)
            report.add("GetStatus \(count) conn calls/s", Double(calls) / elapsed, "calls/s", "one call at a time per connection, \(BenchReport.format(seconds)) s", headline: true)
            report.add("GetStatus \(count) conn p50", sample.percentile(50), "ms", "latency, client side")
            report.add("GetStatus \(count) conn p99", sample.percentile(99), "ms", "latency, client side")
        }

        // WatchJob from 0 to 1 watcher, then to M.
        var rates: [Int: Double] = [:]
        for count in [1, watchers] {
            FileHandle.standardError.write(Data("rpc: WatchJob from 0 to \(count) watcher(s)…\n".utf8))
            let (events, elapsed) = try await watchLoad(port: port, jobID: jobID, watchers: count)
            let expected = Int(status.lastSeq) * count
            rates[count] = Double(events) / elapsed
            report.add("WatchJob \(count) watchers events/s", Double(events) / elapsed, "events/s", "all watchers together (\(events) of \(expected) events delivered)", headline: true)
            report.add("WatchJob \(count) watchers wall", elapsed, "s", "until every watcher had every event")
        }
        if let one = rates[1], let many = rates[watchers], watchers > 1 {
            report.add("WatchJob \(watchers) ÷ 1 aggregate", many / one, "ratio", "aggregate delivery with \(watchers) watchers ÷ with 1", headline: true)
        }
        return report
    }

    /// GetStatus calls on `connections` connections, one at a time on each, for `seconds`.
    private func getStatusLoad(port: Int, jobID: String, connections: Int) async throws -> (Int, Double, LatencySample) {
        var clients: [ImageGenerationClient] = []
        defer { for client in clients { client.close() } }
        for _ in 0..<connections { clients.append(try await ImageGenerationClient.connect(host: "127.0.0.1", port: port)) }
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start + .milliseconds(Int64(seconds * 1_000))
        let sample = try await withThrowingTaskGroup(of: LatencySample.self) { group in
            for client in clients {
                group.addTask {
                    var sample = LatencySample()
                    while clock.now < deadline {
                        let before = clock.now
                        _ = try await client.getStatus(.jobID(jobID))
                        sample.add(clock.now - before)
                    }
                    return sample
                }
            }
            var all = LatencySample()
            for try await sample in group { all.merge(sample) }
            return all
        }
        return (sample.count, (clock.now - start).seconds, sample)
    }

    /// `watchers` WatchJob streams from seq 0, each on its own connection; returns events received and wall seconds.
    private func watchLoad(port: Int, jobID: String, watchers: Int) async throws -> (Int, Double) {
        var clients: [ImageGenerationClient] = []
        defer { for client in clients { client.close() } }
        for _ in 0..<watchers { clients.append(try await ImageGenerationClient.connect(host: "127.0.0.1", port: port)) }
        let clock = ContinuousClock()
        let start = clock.now
        let events = try await withThrowingTaskGroup(of: Int.self) { group in
            for client in clients {
                group.addTask {
                    var count = 0
                    for try await _ in try await client.watchJob(jobID, afterSeq: 0) { count += 1 }
                    return count
                }
            }
            var total = 0
            for try await count in group { total += count }
            return total
        }
        return (events, (clock.now - start).seconds)
    }
}
