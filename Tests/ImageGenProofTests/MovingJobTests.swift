import FakeGemini
import Foundation
import ImageGenClient
import ImageGenRPC
import ImageGenTestSupport
import ImageGenWire
import Testing

/// Coordinated `imagegen-server` processes (issue 13) whose jobs move between them: two servers
/// asked to start one project at the same moment make one job; a watcher connected to a server
/// that does not run the job follows it to its end when its owner dies or loses its lease, with
/// the Swift CLI and the Python client alike. One test at a time (each its own PostgreSQL
/// cluster and servers), beside the serialized proofs rather than after them.
@Suite("Coordination: starts and watchers across servers", .serialized, .timeLimit(.minutes(3)), .hangWatchdog)
struct MovingJobTests {
    /// Eight one-beat projects; for each, one start on a and one on b sent together: both are
    /// accepted under one job id, exactly one of them attached, and the fake sees each project's
    /// prompt once.
    @Test(.timeLimit(.minutes(2)))
    func twoServersStartingOneProjectAtOnceMakeOneJob() async throws {
        let workspace = try ProofWorkspace("same-start")
        defer { workspace.remove() }
        let projects = (1...8).map { "film-\($0)" }
        for name in projects {
            try workspace.makeProject(name, storyboard: ProofStoryboard(shots: [(id: "1", beats: [("1", "lighthouse \(name)", "cut")])]))
        }
        let fake = ProofTests.quietFake(latency: .milliseconds(300))
        let fakePort = try await fake.start()
        defer { Task { try? await fake.shutdown() } }
        try await PostgresCluster.with { cluster in
            var servers: [ServerLauncher.Running] = []
            do {
                for launcher in ProofTests.leasedLaunchers(workspace, database: cluster.url, fakePort: fakePort, leaseSeconds: 3) {
                    servers.append(try await launcher.launch())
                }
                try await Self.startTogether(projects, on: servers)
                let prompts = fake.requestLog().map(\.prompt)
                #expect(prompts.count == projects.count && Set(prompts).count == prompts.count, "the fake saw \(prompts)")
            } catch {
                Issue.record("same start: \(error); stderr of b: \(servers.last?.process.stderr.suffix(2_000) ?? "")")
            }
            for server in servers { _ = try? await server.process.stop(signal: SIGKILL, timeout: .seconds(5)) }
        }
    }

    private static func startTogether(_ projects: [String], on servers: [ServerLauncher.Running]) async throws {
        var clients: [ImageGenerationClient] = []
        defer { for client in clients { client.close() } }
        for server in servers { clients.append(try await ServerLauncher.client(server)) }
        try await waitForAddresses(of: servers, on: clients[0])
        for project in projects {
            let request = StartGenerationRequest(projectDir: project, styles: ["illustration"], detach: true)
            let answers = try await withThrowingTaskGroup(of: [ProgressEvent].self) { group in
                for client in clients {
                    group.addTask { try await EventStreams.collect(try await client.startGeneration(request)) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let accepted = answers.compactMap { events -> (String, Bool)? in
                guard case .accepted(let accepted)? = events.first?.kind else { return nil }
                return (events[0].jobID, accepted.attached)
            }
            #expect(accepted.count == 2, "\(project): \(answers)")
            #expect(Set(accepted.map(\.0)).count == 1, "\(project): two jobs: \(accepted)")
            #expect(accepted.filter(\.1).count == 1, "\(project): attached: \(accepted)")
            if let jobID = accepted.first?.0 { try await ProofTests.waitUntilCompleted(1, of: jobID, on: clients[0]) }
        }
    }

    /// Returns once the database lists every server at an address (their first heartbeat), so that
    /// either can forward to the other.
    static func waitForAddresses(of servers: [ServerLauncher.Running], on client: ImageGenerationClient) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while try await client.listServers().servers.filter({ !$0.address.isEmpty }).count < servers.count {
            guard ContinuousClock.now < deadline else {
                Issue.record("the servers' addresses were not listed within 10 s")
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
