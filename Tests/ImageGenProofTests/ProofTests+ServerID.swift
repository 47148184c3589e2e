import FakeGemini
import Foundation
import ImageGenClient
import ImageGenRPC
import ImageGenTestSupport
import ImageGenWire
import Testing

/// One process per server id, with real `imagegen-server` processes on one PostgreSQL cluster:
/// two live servers under one id would share its job leases and bill each image twice.
extension ProofTests {
    /// Launchers of servers on `workspace`'s projects root, all under server id "render-a", each
    /// with a state directory of its own (`state-<name>`), with leases of `leaseSeconds`.
    static func sameIDLaunchers(
        _ workspace: ProofWorkspace, database: String, fakePort: Int, names: [String], leaseSeconds: Double
    ) -> [ServerLauncher] {
        let template = Self.leasedLaunchers(workspace, database: database, fakePort: fakePort, leaseSeconds: leaseSeconds)[0]
        return names.map { name in
            var launcher = template
            launcher.arguments = template.arguments.map { $0.hasSuffix("/state-a") ? workspace.base.appendingPathComponent("state-\(name)").path : $0 }
            return launcher
        }
    }

    /// A server started under the id of a live one exits with status 1, naming the id and the
    /// live one's address, after waiting (a lease at most) for a heartbeat that goes on; the live
    /// one goes on serving. Once the live one is killed (SIGKILL), a server started under its id
    /// waits for its last heartbeat to lapse, then serves; once that one stops gracefully, the next
    /// server under the id serves without waiting.
    @Test(.timeLimit(.minutes(2)))
    func aServerIDIsOneLiveServerAtATime() async throws {
        let workspace = try ProofWorkspace("server-id")
        defer { workspace.remove() }
        try await PostgresCluster.with { cluster in
            // Leases of 8 s: the server started after the kill registers well within a lease of
            // the killed one's last heartbeat, however loaded the machine.
            let launchers = Self.sameIDLaunchers(workspace, database: cluster.url, fakePort: 9, names: ["a", "b", "c", "d"], leaseSeconds: 8)
            var running: [ChildProcess] = []
            do {
                try await Self.refuseASecondServer(launchers, running: &running)
            } catch {
                Issue.record("\(error); stderr: \(running.last?.stderr.suffix(1_500) ?? "")")
            }
            for process in running { _ = try? await process.stop(signal: SIGKILL, timeout: .seconds(5)) }
        }
    }

    private static func refuseASecondServer(_ launchers: [ServerLauncher], running: inout [ChildProcess]) async throws {
        let first = try await launchers[0].launch()
        running.append(first.process)
        let onFirst = try await ServerLauncher.client(first)
        defer { onFirst.close() }
        _ = try await onFirst.listJobs()  // answered once the server holds its id

        let asked = ContinuousClock.now
        let second = try ChildProcess("imagegen-server", arguments: launchers[1].arguments, environment: launchers[1].environment)
        running.append(second)
        let status = try await second.waitForExit(timeout: .seconds(30))
        let refusedAfter = ContinuousClock.now - asked
        #expect(status == 1, "stderr: \(second.stderr.suffix(1_500))")
        #expect(
            second.stderr.contains("server id \"render-a\" is in use by another running server at 127.0.0.1:\(first.port)"),
            "stderr: \(second.stderr.suffix(1_500))")
        #expect(refusedAfter < .seconds(8 * 2 + 2), "refused after \(refusedAfter)")
        let refusal = second.stderr.split(separator: "\n").last { $0.contains("is in use") } ?? ""
        print("proof server-id: a second server under the id exited \(status) after \(refusedAfter): \(refusal)")
        let listed = try await onFirst.listServers().servers
        #expect(listed.map(\.serverID) == ["render-a"] && listed.first?.address == "127.0.0.1:\(first.port)", "\(listed)")

        _ = try await first.process.stop(signal: SIGKILL)
        let third = try await launchers[2].launch()
        running.append(third.process)
        let onThird = try await ServerLauncher.client(third)
        defer { onThird.close() }
        _ = try await onThird.listJobs()
        #expect(third.process.stderr.contains("is held by another process"), "the server after the kill did not wait: \(third.process.stderr.suffix(1_500))")
        #expect(try await onThird.listServers().servers.first?.address == "127.0.0.1:\(third.port)")

        #expect(await ServerLauncher.stop(third.process) == 0)
        let fourth = try await launchers[3].launch()
        running.append(fourth.process)
        let onFourth = try await ServerLauncher.client(fourth)
        defer { onFourth.close() }
        _ = try await onFourth.listJobs()
        #expect(!fourth.process.stderr.contains("is held by another process"), "\(fourth.process.stderr.suffix(1_500))")
    }

    /// A server started under the id of a live one while the database is away cannot tell at
    /// start-up: it serves, starting no job ("not confirmed"). Once the database is back and says
    /// the other one holds the id, and goes on saying so for longer than a lease (the other one's
    /// heartbeat goes on), it exits with status 1, naming the id and the other's address, as it
    /// would have at start-up; the other one goes on serving under the id.
    @Test(.timeLimit(.minutes(2)))
    func aServerStartedWhileTheDatabaseWasAwayExitsOnceItFindsItsIDInUse() async throws {
        let workspace = try ProofWorkspace("server-id-late")
        defer { workspace.remove() }
        try await PostgresCluster.with { cluster in
            let launchers = Self.sameIDLaunchers(workspace, database: cluster.url, fakePort: 9, names: ["a", "b"], leaseSeconds: 8)
            var running: [ChildProcess] = []
            do {
                try await Self.refuseALateDuplicate(launchers, cluster: cluster, running: &running)
            } catch {
                Issue.record("\(error); stderr: \(running.last?.stderr.suffix(1_500) ?? "")")
            }
            for process in running { _ = try? await process.stop(signal: SIGKILL, timeout: .seconds(5)) }
        }
    }

    private static func refuseALateDuplicate(_ launchers: [ServerLauncher], cluster: PostgresCluster, running: inout [ChildProcess]) async throws {
        let first = try await launchers[0].launch()
        running.append(first.process)
        let onFirst = try await ServerLauncher.client(first)
        defer { onFirst.close() }
        _ = try await onFirst.listJobs()  // answered once the server holds its id

        try await cluster.stop()
        let late = try await launchers[1].launch()  // serves: the database could not say
        running.append(late.process)
        // Logged at its first heartbeat, which may come after the port is announced.
        let logged = ContinuousClock.now + .seconds(15)
        while !late.process.stderr.contains("not confirmed"), ContinuousClock.now < logged { try await Task.sleep(for: .milliseconds(20)) }
        #expect(late.process.stderr.contains("not confirmed"), "\(late.process.stderr.suffix(1_500))")
        try await cluster.resume()
        let back = ContinuousClock.now

        let status = try await late.process.waitForExit(timeout: .seconds(40))
        let after = ContinuousClock.now - back
        #expect(status == 1, "stderr: \(late.process.stderr.suffix(1_500))")
        #expect(
            late.process.stderr.contains("server id \"render-a\" is in use by another running server at 127.0.0.1:\(first.port)"),
            "stderr: \(late.process.stderr.suffix(1_500))")
        let waits = late.process.stderr.components(separatedBy: "waiting for its heartbeat to lapse").count - 1
        #expect(waits == 1, "the wait for the other process's heartbeat was logged \(waits) times: \(late.process.stderr.suffix(1_500))")
        // A reconnection (0.5 s), a heartbeat (8 s ÷ 3) to be refused, a lease of refusals (8 s)
        // and the heartbeat after it that acts; 5 s for a loaded machine.
        #expect(after < .seconds(8 + 2 * 3 + 5), "exited \(after) after the database was back")
        print("proof server-id: a server started while the database was away exited \(status) \(after) after it came back")
        let listed = try await onFirst.listServers().servers
        #expect(listed.map(\.serverID) == ["render-a"] && listed.first?.address == "127.0.0.1:\(first.port)", "\(listed)")
    }

    /// A server frozen (SIGSTOP) for longer than a lease loses its id to a server started under
    /// it, which takes its job over; thawed (SIGCONT), the frozen one stops its run of the job at
    /// its next heartbeat and refuses new jobs (FAILED_PRECONDITION, naming the id), and the job
    /// completes on the other, every beat's image recorded once.
    @Test(.timeLimit(.minutes(2)))
    func aFrozenServerWhoseIDWasTakenStopsItsJobs() async throws {
        let workspace = try ProofWorkspace("frozen-id")
        defer { workspace.remove() }
        let beats = 16
        let project = try workspace.makeProject(
            "film", storyboard: ProofStoryboard(shots: [(id: "1", beats: (1...beats).map { ("\($0)", "lighthouse \($0)", "cut") })]))
        try workspace.makeProject("other", storyboard: ProofStoryboard(shots: [(id: "1", beats: [("1", "quay", "cut")])]))
        let fake = Self.quietFake(latency: .milliseconds(150))
        let fakePort = try await fake.start()
        defer { Task { try? await fake.shutdown() } }
        try await PostgresCluster.with { cluster in
            let launchers = Self.sameIDLaunchers(workspace, database: cluster.url, fakePort: fakePort, names: ["a", "b"], leaseSeconds: 3)
            var running: [ChildProcess] = []
            do {
                try await Self.takeAFrozenServersID(launchers, project: project, beats: beats, running: &running)
            } catch {
                Issue.record("\(error); stderr: \(running.last?.stderr.suffix(1_500) ?? "")")
            }
            for process in running {
                kill(process.pid, SIGCONT)
                _ = try? await process.stop(signal: SIGKILL, timeout: .seconds(5))
            }
        }
    }

    private static func takeAFrozenServersID(
        _ launchers: [ServerLauncher], project: URL, beats: Int, running: inout [ChildProcess]
    ) async throws {
        let frozen = try await launchers[0].launch()
        running.append(frozen.process)
        let onFrozen = try await ServerLauncher.client(frozen)
        defer { onFrozen.close() }
        let accepted = try await EventStreams.collect(
            try await onFrozen.startGeneration(StartGenerationRequest(projectDir: "film", styles: ["illustration"], detach: true)))
        let jobID = try #require(accepted.first?.jobID)
        try await Self.waitUntilCompleted(2, of: jobID, on: onFrozen)
        kill(frozen.process.pid, SIGSTOP)

        let taker = try await launchers[1].launch()
        running.append(taker.process)
        let onTaker = try await ServerLauncher.client(taker)
        defer { onTaker.close() }
        _ = try await onTaker.listJobs()  // the id is the taker's now
        kill(frozen.process.pid, SIGCONT)

        let deadline = ContinuousClock.now + .seconds(20)
        while !frozen.process.stderr.contains("is in use by another running server") {
            guard ContinuousClock.now < deadline else {
                Issue.record("the thawed server did not notice: \(frozen.process.stderr.suffix(1_500))")
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        do {
            _ = try await EventStreams.collect(
                try await onFrozen.startGeneration(StartGenerationRequest(projectDir: "other", styles: ["illustration"], detach: true)))
            Issue.record("the server whose id was taken started a job")
        } catch let error as RPCError {
            #expect(error.code == .failedPrecondition && error.message.contains("server id \"render-a\" is in use"), "\(error)")
        }
        let problem = try await onFrozen.getStatus(.projectDir("other")).coordinationProblem
        #expect(problem.hasPrefix("server id \"render-a\" is in use by another running server at 127.0.0.1:\(taker.port)"), "\(problem)")
        #expect(try await onTaker.getStatus(.projectDir("other")).coordinationProblem == "")
        // The taker resumes the job once the thawed server's run let go of the project.
        let finishBy = ContinuousClock.now + .seconds(40)
        while try await onTaker.getStatus(.projectDir("film")).styles.first.map({ $0.completed < UInt32(beats) }) ?? true {
            guard ContinuousClock.now < finishBy else {
                Issue.record("the taker did not finish the job within 40 s: \(taker.process.stderr.suffix(1_500))")
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(try await onTaker.listJobs().first { $0.jobID == jobID } != nil, "the job did not run on the taker")
        let records = try ProgressFile.read(project: project, style: "illustration").beats
            + (try ProgressFile.journal(project: project, style: "illustration"))
        #expect(records.count == beats && Set(records.map { "\($0.shot)/\($0.beat)" }).count == beats, "\(records.count) records")
    }
}
