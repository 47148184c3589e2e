import FakeGemini
import Foundation
import ImageGenClient
import ImageGenRPC
import ImageGenTestSupport
import ImageGenWire
import Logging
import Testing

extension ProofTests {
    static let leaseSeconds = 2.0

    /// Two `imagegen-server` processes on one projects root (each its own state directory) and
    /// one PostgreSQL cluster, with 2 s job leases. A job started on server a is its project's
    /// only one (the same start on server b attaches to it). Then a is killed (SIGKILL) mid-job: b takes the job over within the lease
    /// and two heartbeats, under the same id, its events numbered beyond every seq a showed, and
    /// finishes it: every beat's image recorded once, and no prompt requested twice but those a
    /// had in flight when it died.
    @Test(.timeLimit(.minutes(2)))
    func aKilledServersJobIsTakenOverByAnother() async throws {
        let workspace = try ProofWorkspace("take-over")
        defer { workspace.remove() }
        let beats = 24
        let storyboard = ProofStoryboard(shots: [(id: "1", beats: (1...beats).map { ("\($0)", "harbour crane \($0)", "cut") })])
        let project = try workspace.makeProject("film", storyboard: storyboard)
        let fake = Self.quietFake(latency: .milliseconds(150))
        let fakePort = try await fake.start()
        defer { Task { try? await fake.shutdown() } }
        try await PostgresCluster.with { cluster in
            let launchers = Self.leasedLaunchers(workspace, database: cluster.url, fakePort: fakePort, leaseSeconds: Self.leaseSeconds)
            var servers: [ServerLauncher.Running] = []
            do {
                for launcher in launchers { servers.append(try await launcher.launch()) }
                try await Self.takeOver(servers, project: project, beats: beats, fake: fake)
            } catch {
                Issue.record("take-over: \(error); stderr of b: \(servers.last?.process.stderr.suffix(2_000) ?? "")")
            }
            for server in servers { _ = try? await server.process.stop(signal: SIGKILL, timeout: .seconds(5)) }
        }
    }

    private static func takeOver(_ servers: [ServerLauncher.Running], project: URL, beats: Int, fake: FakeGeminiServer) async throws {
        let (a, b) = (servers[0], servers[1])
        let onA = try await ServerLauncher.client(a)
        defer { onA.close() }
        let onB = try await ServerLauncher.client(b)
        defer { onB.close() }
        let request = StartGenerationRequest(projectDir: "film", styles: ["illustration"], detach: true)
        let accepted = try await EventStreams.collect(try await onA.startGeneration(request))
        let jobID = try #require(accepted.first?.jobID)
        let watcherOnA = Self.watchSeqs(a, jobID: jobID)

        // One job per project across servers: a start on b goes to a and attaches to its job.
        let again = try await EventStreams.collect(try await onB.startGeneration(request))
        guard case .accepted(let attachedTo)? = again.first?.kind else {
            Issue.record("b answered the second start with \(again)")
            return
        }
        #expect(again.first?.jobID == jobID && attachedTo.attached, "b started another job: \(again)")
        try await Self.expectServers(on: onB, owner: "render-a", of: jobID, a: a, b: b)

        // Kill a once a quarter of the beats are done.
        try await Self.waitUntilCompleted(beats / 4, of: jobID, on: onA)
        _ = try await a.process.stop(signal: SIGKILL)
        let killed = ContinuousClock.now
        let seenOnA = await watcherOnA.value

        // b takes the job over: same id, within the lease and two heartbeats (and a second of slack).
        guard let tookOver = try await Self.timeUntilListed(jobID, on: onB, since: killed) else { return }
        #expect(tookOver < .seconds(Self.leaseSeconds * 5 / 3 + 1), "b took the job over \(tookOver) after the kill")
        try await Self.expectServers(on: onB, owner: "render-b", of: jobID, a: a, b: b)
        var seenOnB: [UInt64] = []
        var last: ProgressEvent?
        for try await event in try await onB.watchJob(jobID, afterSeq: 0) {
            seenOnB.append(event.seq)
            last = event
        }
        guard case .finished(let finished)? = last?.kind else {
            Issue.record("b's stream ended without a final event")
            return
        }
        #expect(finished.state == .completed, "\(finished)")
        let onDisk = try await onB.getStatus(.projectDir("film"))
        let illustration = onDisk.styles.first { $0.style == "illustration" }
        #expect(illustration?.completed == UInt32(beats) && illustration?.failed == 0, "\(onDisk)")
        let highestOnA = try #require(seenOnA.max())
        #expect(seenOnB.allSatisfy { $0 > highestOnA }, "b's seqs \(seenOnB.first ?? 0)… do not follow a's \(highestOnA)")
        #expect(zip(seenOnB, seenOnB.dropFirst()).allSatisfy { $1 == $0 + 1 }, "b's seqs have a gap or repeat")

        // Every beat recorded once; each prompt requested once, but those in flight at the kill.
        let records = try ProgressFile.read(project: project, style: "illustration").beats
            + (try ProgressFile.journal(project: project, style: "illustration"))
        #expect(Set(records.map { "\($0.shot)/\($0.beat)" }).count == beats)
        let perPrompt = Dictionary(grouping: fake.requestLog(), by: \.prompt).mapValues(\.count)
        #expect(perPrompt.count == beats)
        let repeated = perPrompt.values.reduce(0) { $0 + $1 - 1 }
        // In flight at most: 4 per Google Cloud project, 2 projects.
        #expect(perPrompt.values.allSatisfy { $0 <= 2 } && repeated <= 8, "\(repeated) repeated: \(perPrompt.filter { $0.value > 1 })")
        print("proof take-over: b took the job over \(tookOver) after a was killed; \(repeated) prompts requested again; seqs a \(seenOnA.first ?? 0)…\(highestOnA), b \(seenOnB.first ?? 0)…\(seenOnB.last ?? 0)")
    }
}

extension ProofTests {
    /// ListServers on b lists b (this server) then a, each at its address, and job `jobID` (project
    /// "film", its lease unexpired) under `owner` only; a killed server is still listed, jobless.
    static func expectServers(
        on client: ImageGenerationClient, owner: String, of jobID: String, a: ServerLauncher.Running, b: ServerLauncher.Running
    ) async throws {
        let listed = try await client.listServers()
        #expect(listed.coordinated)
        #expect(listed.servers.map(\.serverID) == ["render-b", "render-a"] && listed.servers.map(\.thisServer) == [true, false], "\(listed)")
        let addresses = Dictionary(listed.servers.map { ($0.serverID, $0.address) }, uniquingKeysWith: { $1 })
        #expect(addresses == ["render-a": "127.0.0.1:\(a.port)", "render-b": "127.0.0.1:\(b.port)"], "\(listed)")
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        for server in listed.servers {
            #expect(server.seenUnixMs > now - 30_000 && server.seenUnixMs <= now + 5_000, "\(server)")
            let jobs = server.jobs.map { "\($0.jobID) \($0.projectDir)" }
            #expect(jobs == (server.serverID == owner ? ["\(jobID) film"] : []), "\(server)")
            #expect(server.jobs.allSatisfy { $0.leaseExpiresUnixMs > now - 1_000 }, "\(server)")
        }
    }

    /// A fake Gemini that takes any key and logs nothing.
    static func quietFake(latency: Duration) -> FakeGeminiServer {
        FakeGeminiServer(
            configuration: FakeGeminiConfiguration(acceptAnyKey: true, latency: latency),
            logger: Logger(label: "fake-gemini", factory: { _ in SwiftLogNoOpLogHandler() }))
    }

    /// Returns once job `jobID` on `client` has completed `count` beats of its first style.
    static func waitUntilCompleted(_ count: Int, of jobID: String, on client: ImageGenerationClient) async throws {
        while try await client.getStatus(.jobID(jobID)).styles.first.map({ $0.completed < UInt32(count) }) ?? true {
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// How long after `start` the server of `client` lists job `jobID`; nil (an issue recorded)
    /// when it does not within 20 s.
    static func timeUntilListed(_ jobID: String, on client: ImageGenerationClient, since start: ContinuousClock.Instant) async throws -> Duration? {
        while try await !client.listJobs().contains(where: { $0.jobID == jobID }) {
            guard ContinuousClock.now - start < .seconds(20) else {
                Issue.record("job \(jobID) was not taken over within 20 s")
                return nil
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return ContinuousClock.now - start
    }

    /// Launchers of servers "render-a" and "render-b" on `workspace`'s projects root, each with
    /// its own state directory, on one coordination database.
    static func leasedLaunchers(_ workspace: ProofWorkspace, database: String, fakePort: Int, leaseSeconds: Double) -> [ServerLauncher] {
        var environment = Self.crashKeys
        environment["IMAGEGEN_GEMINI_BASE_URL"] = "http://127.0.0.1:\(fakePort)"
        environment["IMAGEGEN_KEY_RPM"] = "120"
        environment["IMAGEGEN_DATABASE_URL"] = database
        return ["a", "b"].map { name in
            let state = workspace.base.appendingPathComponent("state-\(name)")
            let arguments = [
                "--listen", "127.0.0.1:0", "--projects-root", workspace.projectsRoot.path, "--state-dir", state.path,
                "--log-level", "warning", "--server-id", "render-\(name)", "--lease-seconds", "\(leaseSeconds)",
            ]
            return ServerLauncher(arguments: arguments, environment: environment)
        }
    }

    /// A server stopped gracefully (SIGTERM, a deploy) mid-job gives its lease back: the other
    /// server takes the job over at its next heartbeat (3 s of a 9 s lease), well before the
    /// lease would have expired (at least 6 s after a's last renewal), and finishes it; a,
    /// restarted over its state directory, does not resume the job b runs now.
    @Test(.timeLimit(.minutes(2)))
    func aStoppedServerHandsItsJobOverAtOnce() async throws {
        let workspace = try ProofWorkspace("hand-over")
        defer { workspace.remove() }
        let beats = 24
        try workspace.makeProject(
            "film", storyboard: ProofStoryboard(shots: [(id: "1", beats: (1...beats).map { ("\($0)", "signal box \($0)", "cut") })]))
        let fake = Self.quietFake(latency: .milliseconds(150))
        let fakePort = try await fake.start()
        defer { Task { try? await fake.shutdown() } }
        try await PostgresCluster.with { cluster in
            let launchers = Self.leasedLaunchers(workspace, database: cluster.url, fakePort: fakePort, leaseSeconds: 9)
            var servers: [ServerLauncher.Running] = []
            do {
                for launcher in launchers { servers.append(try await launcher.launch()) }
                let onA = try await ServerLauncher.client(servers[0])
                let accepted = try await EventStreams.collect(
                    try await onA.startGeneration(StartGenerationRequest(projectDir: "film", styles: ["illustration"], detach: true)))
                let jobID = try #require(accepted.first?.jobID)
                try await Self.waitUntilCompleted(4, of: jobID, on: onA)
                onA.close()
                #expect(await ServerLauncher.stop(servers[0].process) == 0)
                let stopped = ContinuousClock.now
                let onB = try await ServerLauncher.client(servers[1])
                defer { onB.close() }
                guard let handedOver = try await Self.timeUntilListed(jobID, on: onB, since: stopped) else { return }
                #expect(handedOver < .seconds(5), "b took the job over \(handedOver) after a stopped")
                servers[0] = try await launchers[0].launch()
                let restarted = try await ServerLauncher.client(servers[0])
                defer { restarted.close() }
                #expect(try await restarted.listJobs().isEmpty, "the restarted a resumed the job b runs")
                let final = try await EventStreams.waitForProject(onB, projectDir: "film", timeout: .seconds(60))
                let illustration = final.styles.first { $0.style == "illustration" }
                #expect(illustration?.completed == UInt32(beats), "\(final)")
                print("proof hand-over: b took the job over \(handedOver) after a stopped gracefully")
            } catch {
                Issue.record("hand-over: \(error); stderr of b: \(servers.last?.process.stderr.suffix(2_000) ?? "")")
            }
            for server in servers { _ = try? await server.process.stop(signal: SIGKILL, timeout: .seconds(5)) }
        }
    }
}

extension ProofTests {
    /// A job starts only with its project's lease: with PostgreSQL stopped, StartGeneration is
    /// refused with UNAVAILABLE saying why, and nothing is started or written; once the database is
    /// back (the server reconnects by itself), the same call starts the job and it completes.
    /// Its metrics say so: connected 1, then 0 with the refused claim counted as an error, then 1
    /// again with a grant answered "start" for every request, each timed; and GetStatus names the
    /// problem while the database is away, and none before or after.
    @Test(.timeLimit(.minutes(2)))
    func noJobStartsWithoutItsLease() async throws {
        let workspace = try ProofWorkspace("no-lease")
        defer { workspace.remove() }
        let project = try workspace.makeProject(
            "film", storyboard: ProofStoryboard(shots: [(id: "1", beats: (1...4).map { ("\($0)", "tide gauge \($0)", "cut") })]))
        let fake = Self.quietFake(latency: .milliseconds(20))
        let fakePort = try await fake.start()
        defer { Task { try? await fake.shutdown() } }
        try await PostgresCluster.with { cluster in
            var launcher = Self.leasedLaunchers(workspace, database: cluster.url, fakePort: fakePort, leaseSeconds: 3)[0]
            launcher.arguments += ["--metrics-listen", "127.0.0.1:0"]
            let server = try await launcher.launch()
            do {
                let client = try await ServerLauncher.client(server)
                defer { client.close() }
                let metricsPort = try await MetricsEndpointTests.metricsPort(server.process)
                let connected = "imagegen_coordination_connected"
                #expect(try await MetricsEndpointTests.scrape(port: metricsPort) { $0.value(connected) == 1 }.value(connected) == 1)
                let request = StartGenerationRequest(projectDir: "film", styles: ["illustration"], detach: true)
                #expect(try await client.getStatus(.projectDir("film")).coordinationProblem == "")
                try await cluster.stop()
                do {
                    _ = try await EventStreams.collect(try await client.startGeneration(request))
                    Issue.record("a job started without its lease")
                } catch let error as RPCError {
                    #expect(error.code == .unavailable && error.message.contains("its lease cannot be claimed"), "\(error)")
                }
                #expect(try await client.listJobs().isEmpty)
                #expect(fake.requestLog().isEmpty)
                #expect(!FileManager.default.fileExists(atPath: project.appendingPathComponent("generated_images").path))
                let down = try await MetricsEndpointTests.scrape(port: metricsPort) { $0.value(connected) == 0 }
                #expect(down.value(connected) == 0)
                #expect(down.value("imagegen_coordination_errors_total", ["statement": "claim_lease"]) >= 1, "\(down.labelSets("imagegen_coordination_errors_total"))")
                #expect(down.value("imagegen_coordination_grants_total") == 0)
                let problem = try await client.getStatus(.projectDir("film")).coordinationProblem
                #expect(problem.hasPrefix("the coordination database cannot be used: ") && problem.contains(" postgres://"), "\(problem)")
                try await cluster.resume()
                let deadline = ContinuousClock.now + .seconds(20)
                var jobID: String?
                while jobID == nil && ContinuousClock.now < deadline {
                    do {
                        jobID = try await EventStreams.collect(try await client.startGeneration(request)).first?.jobID
                    } catch let error as RPCError where error.code == .unavailable {
                        try await Task.sleep(for: .milliseconds(100))
                    }
                }
                #expect(jobID != nil, "no job started within 20 s of the database's return")
                let final = try await EventStreams.waitForProject(client, projectDir: "film", timeout: .seconds(30))
                #expect(final.styles.first { $0.style == "illustration" }?.completed == 4, "\(final)")
                #expect(final.coordinationProblem == "", "\(final.coordinationProblem)")
                let back = try await HTTPProbe.scrape(port: metricsPort)
                #expect(back.value(connected) == 1)
                #expect(back.value("imagegen_coordination_grants_total", ["answer": "start"]) >= 4)
                let grants = back.value("imagegen_coordination_statement_duration_seconds_count", ["statement": "grant"])
                #expect(grants == back.value("imagegen_coordination_grants_total"), "every grant answered is timed")
                #expect(back.value("imagegen_coordination_statement_duration_seconds_count", ["statement": "claim_lease"]) >= 1)
                #expect(back.problems.isEmpty, "\(back.problems)")
                let grantSeconds = back.value("imagegen_coordination_statement_duration_seconds_sum", ["statement": "grant"])
                print("proof no-lease metrics: \(Int(down.value("imagegen_coordination_errors_total"))) statements failed while down, \(Int(grants)) grants, mean \(String(format: "%.2f", grantSeconds / max(grants, 1) * 1_000)) ms")
            } catch {
                Issue.record("no lease: \(error); stderr: \(server.process.stderr.suffix(2_000))")
            }
            _ = try? await server.process.stop(signal: SIGKILL, timeout: .seconds(5))
        }
    }
}

extension ProofTests {
    /// Calls for a job made to a server that does not run it are forwarded to the one that does:
    /// a watcher on b sees every event a watcher on a sees, in order, to the final one; a start on
    /// b attaches to a's job; pause and resume through b hold and free a's job; GetStatus through b
    /// is a's answer. A call that came forwarded is never forwarded again: it is answered
    /// FAILED_PRECONDITION naming the server that runs the job.
    @Test(.timeLimit(.minutes(2)))
    func callsForAJobAreForwardedToItsServer() async throws {
        let workspace = try ProofWorkspace("forwarding")
        defer { workspace.remove() }
        let beats = 12
        try workspace.makeProject(
            "film", storyboard: ProofStoryboard(shots: [(id: "1", beats: (1...beats).map { ("\($0)", "ferry ramp \($0)", "cut") })]))
        let fake = Self.quietFake(latency: .milliseconds(100))
        let fakePort = try await fake.start()
        defer { Task { try? await fake.shutdown() } }
        try await PostgresCluster.with { cluster in
            var servers: [ServerLauncher.Running] = []
            do {
                for launcher in Self.leasedLaunchers(workspace, database: cluster.url, fakePort: fakePort, leaseSeconds: 2) {
                    servers.append(try await launcher.launch())
                }
                try await Self.forwardCalls(a: servers[0], b: servers[1], beats: beats)
            } catch {
                Issue.record("forwarding: \(error); stderr of b: \(servers.last?.process.stderr.suffix(2_000) ?? "")")
            }
            for server in servers { _ = try? await server.process.stop(signal: SIGKILL, timeout: .seconds(5)) }
        }
    }

    private static func forwardCalls(a: ServerLauncher.Running, b: ServerLauncher.Running, beats: Int) async throws {
        let onA = try await ServerLauncher.client(a)
        defer { onA.close() }
        let onB = try await ServerLauncher.client(b)
        defer { onB.close() }
        let request = StartGenerationRequest(projectDir: "film", styles: ["illustration"], detach: true)
        let jobID = try #require(try await EventStreams.collect(try await onA.startGeneration(request)).first?.jobID)
        // The heartbeat records a's address within a beat (2/3 s) of its start.
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            do {
                _ = try await onB.getStatus(.jobID(jobID))
                break
            } catch let error as RPCError where error.code == .failedPrecondition && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        let paused = try await onB.pauseGeneration(jobID)
        #expect(paused.jobID == jobID && paused.state == .paused, "\(paused)")
        #expect(try await onA.getStatus(.jobID(jobID)).state == .paused)
        let watchA = Task { try await EventStreams.collect(try await onA.watchJob(jobID, afterSeq: 0)) }
        let watchB = Task { try await EventStreams.collect(try await onB.watchJob(jobID, afterSeq: 0)) }
        let again = try await EventStreams.collect(try await onB.startGeneration(request))
        #expect(again.first?.jobID == jobID, "b started another job: \(again)")
        #expect(try await onB.resumeGeneration(jobID).state != .paused)
        let (seenOnA, seenViaB) = (try await watchA.value, try await watchB.value)
        #expect(seenViaB.map(\.seq) == seenOnA.map(\.seq), "b's watcher: \(seenViaB.count) events, a's: \(seenOnA.count)")
        #expect(EventStreams.gap(in: seenViaB) == nil)
        #expect(EventStreams.finished(seenViaB)?.state == .completed)
        #expect(try await onB.getStatus(.jobID(jobID)) == (try await onA.getStatus(.jobID(jobID))))

        // A forwarded call is answered where it lands.
        let raw = try await RPCClient.connect(host: "127.0.0.1", port: b.port)
        defer { raw.close() }
        do {
            _ = try await raw.unary(
                ImageGenerationMethod.getStatus.rawValue, GetStatusRequest(target: .jobID(jobID)), as: JobStatus.self,
                metadata: ["imagegen-forwarded-by": "render-a"])
            Issue.record("b forwarded a forwarded call")
        } catch let error as RPCError {
            #expect(error.code == .failedPrecondition && error.message.contains("on server render-a"), "\(error)")
        }
        print("proof forwarding: \(seenViaB.count) events seen through b, as on a")
    }
}
