import FakeGemini
import Foundation
import ImageGenClient
import ImageGenRPC
import ImageGenTestSupport
import ImageGenWire
import Logging
import Testing

extension ProofTests {
    static let styles = ["illustration", "clear", "consistent"]

    /// Keys for the fake: two keys per style in two projects, as `IMAGEGEN_KEYS_<STYLE>` values.
    static let crashKeys: [String: String] = [
        "IMAGEGEN_KEYS_ILLUSTRATION": "proj-1:AIzaTestKeyIllustration1,proj-2:AIzaTestKeyIllustration2",
        "IMAGEGEN_KEYS_CLEAR": "proj-1:AIzaTestKeyClear00001,proj-2:AIzaTestKeyClear00002",
        "IMAGEGEN_KEYS_CONSISTENT": "proj-1:AIzaTestKeyConsistent1,proj-2:AIzaTestKeyConsistent2",
    ]

    /// A job of 3 shots × 6 beats in 3 styles against the fake Gemini, with the server killed
    /// (SIGKILL) at random moments and restarted over the same state directory: it resumes the job
    /// by itself, under the same id, and finishes it with every image valid and recorded, and no
    /// prompt requested more often than once plus once per kill. A watcher attached to each server
    /// sees the job's seqs strictly increase across the kills, and a watcher reattaching to the
    /// restarted server with the last seq of the killed one is told so (OUT_OF_RANGE), not handed
    /// the new run's events from a seq that happens to match.
    @Test(.timeLimit(.minutes(2)))
    func killedServerResumesAndFinishesWithoutLosingOrRepeatingWork() async throws {
        let workspace = try ProofWorkspace("crash")
        defer { workspace.remove() }
        let storyboard = ProofStoryboard.grid(shots: 3, beats: 6, subject: "a lighthouse keeper's long night")
        let project = try workspace.makeProject("film", storyboard: storyboard)

        let fake = FakeGeminiServer(
            configuration: FakeGeminiConfiguration(acceptAnyKey: true, latency: .milliseconds(150)),
            logger: Logger(label: "fake-gemini", factory: { _ in SwiftLogNoOpLogHandler() }))
        let fakePort = try await fake.start()
        var environment = Self.crashKeys
        environment["IMAGEGEN_GEMINI_BASE_URL"] = "http://127.0.0.1:\(fakePort)"
        environment["IMAGEGEN_KEY_RPM"] = "\(Self.crashRPM)"
        let launcher = ServerLauncher(arguments: workspace.serverArguments(config: false), environment: environment)

        var server = try await launcher.launch()
        var kills = 0
        do {
            let started = ContinuousClock.now
            let client = try await ServerLauncher.client(server)
            let accepted = try await EventStreams.collect(
                try await client.startGeneration(StartGenerationRequest(projectDir: "film", detach: true)))
            client.close()
            let jobID = try #require(accepted.first?.jobID)
            #expect(!jobID.isEmpty)
            // The seqs each server's run showed a watcher, one list per server.
            var runs: [[UInt64]] = []
            var watcher: Task<[UInt64], Never>? = Self.watchSeqs(server, jobID: jobID)

            // Kill and restart while the job runs: at least `minimumKills` times.
            var generator = SystemRandomNumberGenerator()
            while kills < Self.maximumKills {
                try await Task.sleep(for: .milliseconds(Int.random(in: 300...1_200, using: &generator)))
                let probe = try await ServerLauncher.client(server)
                let status = try await probe.getStatus(.projectDir("film"))
                probe.close()
                if status.state == .completed { break }
                _ = try await server.process.stop(signal: SIGKILL)
                kills += 1
                if let watcher { runs.append(await watcher.value) }
                watcher = nil
                server = try await launcher.launch()
                // The restarted server resumed the same job (unless it had just finished it).
                let check = try await ServerLauncher.client(server)
                let jobs = try await check.listJobs()
                let onDisk = try await check.getStatus(.projectDir("film"))
                #expect(jobs.contains { $0.jobID == jobID } || onDisk.state == .completed, "kill \(kills): job \(jobID) not resumed")
                #expect(jobs.allSatisfy { $0.jobID == jobID }, "kill \(kills): another job appeared: \(jobs.map(\.jobID))")
                if jobs.contains(where: { $0.jobID == jobID }) {
                    // Reattaching with the last seq the killed server showed: refused, naming where this run starts.
                    if let lastSeen = runs.last?.last {
                        do {
                            for try await event in try await check.watchJob(jobID, afterSeq: lastSeen) {
                                Issue.record("kill \(kills): after_seq \(lastSeen) of the killed run gave seq \(event.seq) of the new one")
                                break
                            }
                        } catch let error as RPCError {
                            #expect(error.code == .outOfRange && error.message.contains("server restarted"), "kill \(kills): \(error)")
                        }
                    }
                    watcher = Self.watchSeqs(server, jobID: jobID)
                }
                check.close()
            }
            #expect(kills >= Self.minimumKills, "the job finished after only \(kills) kills")

            let client2 = try await ServerLauncher.client(server)
            let deadline = ContinuousClock.now + .seconds(60)
            var final = try await client2.getStatus(.projectDir("film"))
            while final.state != .completed && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
                final = try await client2.getStatus(.projectDir("film"))
            }
            let elapsed = ContinuousClock.now - started
            client2.close()
            if let watcher { runs.append(await watcher.value) }

            // Within a run seqs go on by 1; each run starts beyond every seq of the runs before.
            #expect(runs.count >= 2, "watched \(runs.count) runs")
            for (index, run) in runs.enumerated() {
                #expect(run == Array(run.indices).map { run[0] + UInt64($0) }, "run \(index + 1) has a gap or repeat")
            }
            let seqs = runs.flatMap { $0 }
            #expect(zip(seqs, seqs.dropFirst()).allSatisfy { $0 < $1 }, "seqs across kills are not strictly increasing: \(runs.map { ($0.first ?? 0, $0.last ?? 0) })")

            // GetStatus by project: completed, 18/18 in every style.
            #expect(final.state == .completed, "final state \(final.state): \(final.message)")
            #expect(Set(final.styles.map(\.style)) == Set(Self.styles))
            for style in final.styles {
                #expect(style.total == UInt32(storyboard.beatCount) && style.completed == style.total && style.failed == 0,
                        "style \(style.style): \(style.completed)/\(style.total), \(style.failed) failed")
            }

            // The progress files parse, and name every beat once, done, with a valid PNG of the recorded size and hash.
            // (The server may have been killed before compacting: fold the journal in as the engine does.)
            for style in Self.styles {
                let file = try ProgressFile.read(project: project, style: style)
                #expect(file.version == 1 && file.style == style)
                var records: [String: ProgressFile.Record] = [:]
                for record in file.beats + (try ProgressFile.journal(project: project, style: style)) {
                    records["\(record.shot)/\(record.beat)"] = record
                }
                #expect(file.beats.count == Set(file.beats.map { "\($0.shot)/\($0.beat)" }).count, "\(style): duplicate records")
                #expect(records.count == storyboard.beatCount, "\(style): \(records.count) records")
                for shot in storyboard.shots {
                    for beat in shot.beats {
                        guard let record = records["\(shot.id)/\(beat.id)"] else {
                            Issue.record("\(style) \(shot.id)/\(beat.id): no record")
                            continue
                        }
                        if let problem = ProgressFile.problem(with: record, project: project) {
                            Issue.record("\(style): \(problem)")
                        }
                    }
                }
                // Every image file in the style's folder is a valid PNG.
                let folder = project.appendingPathComponent("generated_images/\(style)")
                let files = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)?
                    .compactMap { $0 as? URL }.filter { $0.pathExtension == "png" } ?? []
                #expect(files.count == storyboard.beatCount, "\(style): \(files.count) images")
                for url in files where !ProgressFile.isPNG((try? Data(contentsOf: url)) ?? Data()) {
                    Issue.record("\(url.path) is not a valid PNG")
                }
            }

            // The fake's log: no prompt (one per style and beat) requested more than 1 + kills times.
            let log = fake.requestLog()
            let perPrompt = Dictionary(grouping: log, by: \.prompt).mapValues(\.count)
            #expect(perPrompt.count == storyboard.beatCount * Self.styles.count, "\(perPrompt.count) distinct prompts")
            let worst = perPrompt.max { $0.value < $1.value }
            for (prompt, count) in perPrompt where count > 1 + kills {
                Issue.record("requested \(count) times with \(kills) kills: \(prompt)")
            }
            let repeated = perPrompt.values.reduce(0) { $0 + max(0, $1 - 1) }
            #expect(log.allSatisfy { $0.kind == "image" }, "unexpected answers: \(Set(log.map(\.kind)))")
            print(
                "proof crash: \(kills) kills, \(log.count) requests for \(perPrompt.count) prompts, \(repeated) repeated,"
                    + " at most \(worst?.value ?? 0) per prompt, \(elapsed) total;"
                    + " seqs watched per run: \(runs.map { "\($0.first ?? 0)…\($0.last ?? 0)" }.joined(separator: ", "))")
        } catch {
            Issue.record("crash test: \(error); server stderr: \(server.process.stderr.suffix(2_000))")
        }
        await ServerLauncher.stop(server.process)
        try await fake.shutdown()
    }

    /// Follows the job on `running` from the start of its current run (after_seq 0) and returns the
    /// seqs it showed, when the job finishes or the server dies.
    static func watchSeqs(_ running: ServerLauncher.Running, jobID: String) -> Task<[UInt64], Never> {
        Task {
            var seqs: [UInt64] = []
            do {
                let client = try await ServerLauncher.client(running)
                defer { client.close() }
                for try await event in try await client.watchJob(jobID, afterSeq: 0) { seqs.append(event.seq) }
            } catch {
                // The server was killed: the stream ends here.
            }
            return seqs
        }
    }

    /// Requests per minute per project: slow enough that the job outlives `minimumKills` kills even on an idle
    /// machine (at 600 the whole job takes about a second, too short to be killed five times).
    static let crashRPM = 90
    static let minimumKills = 5
    static let maximumKills = 6
}
