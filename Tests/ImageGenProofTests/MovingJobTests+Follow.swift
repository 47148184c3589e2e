import FakeGemini
import Foundation
import ImageGenClient
import ImageGenRPC
import ImageGenTestSupport
import ImageGenWire
import Testing

extension MovingJobTests {
    /// `imagegen watch` and the Python client's `follow`, both connected to server b, follow a
    /// job that server a runs (b forwards the watch). a is killed (SIGKILL) mid-job: b answers
    /// UNAVAILABLE while a's lease runs out, then takes the job over; both watchers watch again
    /// and see its run on b to the final event (COMPLETED, exit 0), their seqs only increasing.
    @Test(.timeLimit(.minutes(2)))
    func watchersThroughAnotherServerFollowAJobWhoseOwnerIsKilled() async throws {
        try await Self.withMovingJob("follow-kill", watchThrough: 1) { servers, _, followers in
            let before = try await Self.serversListed(through: servers[1])
            #expect(before.count == 3, "\(before)")
            #expect(before.first?.hasPrefix("render-b  127.0.0.1:\(servers[1].port)  seen ") == true, "\(before)")
            #expect(before.first?.hasSuffix("  (this server)  0 job(s)") == true, "\(before)")
            #expect(before.dropFirst().first?.hasPrefix("render-a  127.0.0.1:\(servers[0].port)  seen ") == true, "\(before)")
            #expect(before.dropFirst().first?.hasSuffix(" ago  1 job(s)") == true, "\(before)")
            #expect(before.last?.hasPrefix("  \(followers.jobID)  film  lease ") == true && before.last?.hasSuffix("s left") == true, "\(before)")
            _ = try await servers[0].process.stop(signal: SIGKILL, timeout: .seconds(5))
            try await Self.expectFollowedToTheEnd(followers)
            // The job finished on b: its lease is no server's job any more; a is still listed, jobless.
            let after = try await Self.serversListed(through: servers[1])
            #expect(after.count == 2 && after.allSatisfy { $0.hasSuffix("  0 job(s)") }, "\(after)")
        }
    }

    /// Both watchers connected to server a, which runs the job (b is killed first, so that a is
    /// the server that takes the job back). PostgreSQL is stopped for longer than the lease: a
    /// stops the job's run (its lease may be another's by now) and answers its watchers
    /// UNAVAILABLE, not a final CANCELLED; once the database is back, a takes the lease again
    /// and resumes the job under its id (listed once), and both watchers follow it to COMPLETED.
    @Test(.timeLimit(.minutes(2)))
    func watchersFollowAJobThroughADatabaseOutageLongerThanItsLease() async throws {
        try await Self.withMovingJob("follow-outage", watchThrough: 0) { servers, cluster, followers in
            _ = try await servers[1].process.stop(signal: SIGKILL, timeout: .seconds(5))
            try await cluster.stop()
            // The CLI says when it watches again: a's run has stopped for the lost lease.
            let deadline = ContinuousClock.now + .seconds(20)
            while !followers.cli.stderr.contains("watching job") {
                guard ContinuousClock.now < deadline, followers.cli.isRunning else {
                    Issue.record("the CLI did not watch again within 20 s: \(followers.cli.stdout.suffix(1_000)) \(followers.cli.stderr)")
                    break
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(followers.cli.stderr.contains("lease was lost"), "\(followers.cli.stderr)")
            try await cluster.resume()
            try await Self.expectFollowedToTheEnd(followers)
            let onA = try await ServerLauncher.client(servers[0])
            defer { onA.close() }
            #expect(try await onA.listJobs().map(\.jobID) == [followers.jobID])
        }
    }

    /// Both watchers connected to server a, which runs the job; a is frozen (SIGSTOP) until its
    /// lease expires and b, another server id, claims it (b cannot run the job yet: a still
    /// holds the project's lock). Woken (SIGCONT), a finds its lease gone at its next heartbeat
    /// and stops its run (while a is frozen, calls for the job through b are UNAVAILABLE: b
    /// holds the lease, not the job yet); its watchers are told UNAVAILABLE, watch again through
    /// a, which forwards them to b once b runs the job, and follow it to COMPLETED. No beat is rendered by
    /// both (the project lock), and no prompt is asked for more than twice.
    @Test(.timeLimit(.minutes(2)))
    func watchersOfAFrozenOwnerFollowTheJobToTheServerThatTookItOver() async throws {
        try await Self.withMovingJob("follow-frozen", watchThrough: 0) { servers, _, followers in
            kill(servers[0].process.pid, SIGSTOP)
            let onB = try await ServerLauncher.client(servers[1])
            defer { onB.close() }
            try await Self.until("b claims the frozen server's lease") {
                try await onB.listServers().servers.contains { $0.serverID == "render-b" && $0.jobs.contains { $0.jobID == followers.jobID } }
            }
            // b holds the lease but cannot run the job yet (frozen a holds the project's lock):
            // calls for it through b say so, rather than NOT_FOUND.
            try await Self.expectUnavailable(followers.jobID, on: onB, saying: "is being taken over (its lease is server render-b's")
            kill(servers[0].process.pid, SIGCONT)
            try await Self.expectFollowedToTheEnd(followers)
        }
    }

    /// Both watchers connected to server b, which forwards their watch to a, the job's owner; a
    /// is frozen (SIGSTOP). b's relayed streams ping a: unanswered for a lease, they end with
    /// UNAVAILABLE ("stopped answering"), and the watchers watch again instead of hanging on a
    /// silent owner. Woken, a stops its run (b holds the lease by then) and the watchers follow
    /// the job on b to COMPLETED.
    @Test(.timeLimit(.minutes(2)))
    func watchesForwardedToAFrozenOwnerEndInsteadOfHanging() async throws {
        try await Self.withMovingJob("forward-frozen", watchThrough: 1) { servers, _, followers in
            kill(servers[0].process.pid, SIGSTOP)
            try await Self.until("the CLI is told its forwarded watch ended") {
                followers.cli.stderr.contains("stopped answering")
            }
            #expect(followers.cli.stderr.contains("server render-a runs the job but stopped answering"), "\(followers.cli.stderr)")
            kill(servers[0].process.pid, SIGCONT)
            try await Self.expectFollowedToTheEnd(followers)
        }
    }

    /// GetStatus and CancelGeneration for `jobID` through `client` are both UNAVAILABLE, their
    /// messages containing `text` (unless empty).
    static func expectUnavailable(_ jobID: String, on client: ImageGenerationClient, saying text: String) async throws {
        for name in ["status", "cancel"] {
            do {
                if name == "status" { _ = try await client.getStatus(.jobID(jobID)) } else { _ = try await client.cancelGeneration(jobID) }
                Issue.record("\(name) of job \(jobID) was answered; UNAVAILABLE expected")
            } catch let error as RPCError {
                #expect(error.code == .unavailable && (text.isEmpty || error.message.contains(text)), "\(name): \(error)")
            }
        }
    }

    /// Returns once `condition` holds; records an issue naming `what` after 20 s.
    static func until(_ what: String, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while try await !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("\(what): not within 20 s")
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}

extension MovingJobTests {
    /// The two watchers of one job: the CLI (`imagegen watch --json`) and a Python script
    /// calling `Client.follow`, each printing one line per event.
    struct Followers {
        var cli: ChildProcess
        var python: ChildProcess
        var jobID: String
    }

    /// Two leased servers (2 s leases), a 16-beat project started on server a, and both watchers
    /// connected to server `watchThrough` once each has shown an event and 3 beats are done;
    /// then `body`. Every process is killed at the end.
    static func withMovingJob(
        _ name: String, watchThrough index: Int,
        _ body: ([ServerLauncher.Running], PostgresCluster, Followers) async throws -> Void
    ) async throws {
        let workspace = try ProofWorkspace(name)
        defer { workspace.remove() }
        try workspace.makeProject(
            "film", storyboard: ProofStoryboard(shots: [(id: "1", beats: (1...16).map { ("\($0)", "quay crane \($0)", "cut") })]))
        let fake = ProofTests.quietFake(latency: .milliseconds(150))
        let fakePort = try await fake.start()
        defer { Task { try? await fake.shutdown() } }
        try await PostgresCluster.with { cluster in
            var servers: [ServerLauncher.Running] = []
            var followers: Followers?
            do {
                for launcher in ProofTests.leasedLaunchers(workspace, database: cluster.url, fakePort: fakePort, leaseSeconds: 2) {
                    servers.append(try await launcher.launch())
                }
                let onA = try await ServerLauncher.client(servers[0])
                defer { onA.close() }
                try await waitForAddresses(of: servers, on: onA)
                // With a request id: a take-over must not attach to the stopped run it names.
                let request = StartGenerationRequest(projectDir: "film", styles: ["illustration"], detach: true, requestID: "start-\(name)")
                let jobID = try #require(try await EventStreams.collect(try await onA.startGeneration(request)).first?.jobID)
                followers = try await Self.follow(jobID, through: servers[index])
                try await ProofTests.waitUntilCompleted(3, of: jobID, on: onA)
                try await body(servers, cluster, try #require(followers))
                let perPrompt = Dictionary(grouping: fake.requestLog(), by: \.prompt).mapValues(\.count)
                #expect(perPrompt.count == 16 && perPrompt.values.allSatisfy { $0 <= 2 }, "\(perPrompt.filter { $0.value > 1 })")
            } catch {
                Issue.record("\(name): \(error); cli: \(followers?.cli.stderr.suffix(1_000) ?? ""); python: \(followers?.python.stderr.suffix(1_000) ?? ""); stderr of b: \(servers.last?.process.stderr.suffix(2_000) ?? "")")
            }
            for process in [followers?.cli, followers?.python].compactMap({ $0 }) { _ = try? await process.stop(signal: SIGKILL, timeout: .seconds(5)) }
            for server in servers { _ = try? await server.process.stop(signal: SIGKILL, timeout: .seconds(5)) }
        }
    }

    /// Starts both watchers of `jobID` on `server`; returns once each has printed an event.
    static func follow(_ jobID: String, through server: ServerLauncher.Running) async throws -> Followers {
        let cli = try ChildProcess("imagegen", arguments: ["watch", jobID, "--json", "--server", "127.0.0.1:\(server.port)"])
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Clients/python/src")
        let python = try ChildProcess(
            "/usr/bin/env", arguments: ["python3", "-u", "-c", Self.followScript, "\(server.port)", jobID],
            environment: ["PYTHONPATH": sources.path])
        let followers = Followers(cli: cli, python: python, jobID: jobID)
        let deadline = ContinuousClock.now + .seconds(20)
        while Self.cliEvents(followers.cli).isEmpty || Self.pythonEvents(followers.python).isEmpty {
            guard ContinuousClock.now < deadline, cli.isRunning, python.isRunning else {
                throw ChildProcess.ProcessFailure(message: "the watchers showed no event within 20 s: cli \(cli.stderr), python \(python.stderr)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return followers
    }

    /// Prints "SEQ KIND [STATE]" per event of `Client.follow`.
    static let followScript = """
        import sys
        from imagegen_client import Client, generation_pb2
        with Client("127.0.0.1", int(sys.argv[1])) as client:
            for event in client.follow(sys.argv[2]):
                kind = event.WhichOneof("kind")
                state = generation_pb2.JobState.Name(event.finished.state) if kind == "finished" else ""
                print(event.seq, kind, state, flush=True)
        """

    /// Both watchers exit 0 within 60 s, having shown increasing seqs ending in COMPLETED.
    static func expectFollowedToTheEnd(_ followers: Followers) async throws {
        let cliStatus = try await followers.cli.waitForExit(timeout: .seconds(60))
        let pythonStatus = try await followers.python.waitForExit(timeout: .seconds(60))
        #expect(cliStatus == 0, "imagegen watch exited \(cliStatus): \(followers.cli.stderr.suffix(2_000))")
        #expect(pythonStatus == 0, "the Python follower exited \(pythonStatus): \(followers.python.stderr.suffix(2_000))")
        for (name, events) in [("cli", cliEvents(followers.cli)), ("python", pythonEvents(followers.python))] {
            #expect(zip(events, events.dropFirst()).allSatisfy { $0.seq < $1.seq }, "\(name): seqs \(events.map(\.seq))")
            #expect(events.last?.kind == "finished" && events.last?.state.uppercased() == "COMPLETED", "\(name): ended with \(String(describing: events.last))")
        }
        #expect(followers.cli.stderr.contains("watching job \(followers.jobID) again"), "\(followers.cli.stderr)")
    }

    /// The lines `imagegen servers` prints through `server`; it exits 0.
    static func serversListed(through server: ServerLauncher.Running) async throws -> [String] {
        let cli = try ChildProcess("imagegen", arguments: ["servers", "--server", "127.0.0.1:\(server.port)"])
        let status = try await cli.waitForExit(timeout: .seconds(30))
        #expect(status == 0, "imagegen servers exited \(status): \(cli.stderr)")
        return cli.stdout.split(separator: "\n").map(String.init)
    }

    /// One event a watcher printed.
    struct Shown: Equatable {
        var seq: UInt64
        var kind: String
        var state: String
    }

    static func cliEvents(_ cli: ChildProcess) -> [Shown] {
        cli.stdout.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("{"), let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let seq = (object["seq"] as? NSNumber)?.uint64Value, let kind = object["kind"] as? String
            else { return nil }
            return Shown(seq: seq, kind: kind, state: (object["finished"] as? [String: Any])?["state"] as? String ?? "")
        }
    }

    static func pythonEvents(_ python: ChildProcess) -> [Shown] {
        python.stdout.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count >= 2, let seq = UInt64(fields[0]) else { return nil }
            return Shown(seq: seq, kind: String(fields[1]), state: fields.count > 2 ? String(fields[2]) : "")
        }
    }
}
