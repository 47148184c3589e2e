import Foundation
import ImageGenTestSupport
import Testing

/// The `imagegen` CLI as a real process against a real `imagegen-server` process on loopback.
@Suite("imagegen CLI end to end", .timeLimit(.minutes(2)), .hangWatchdog)
struct CLIProcessTests {
    static let storyboard = #"{"shots":[{"id":"1","beats":[{"id":"1.1","prompt":"a lighthouse","transition":"hard_cut"},{"id":"1.2","prompt":"its beam","transition":"continue"}]},{"id":"2","beats":[{"id":"2.1","prompt":"a harbour","transition":"hard_cut"}]}]}"#

    /// A projects root with a project and a storyboard file, and a running server over it.
    struct Fixture {
        let base: URL
        private(set) var server: ChildProcess
        private(set) var port: Int

        init(latencyMs: Int = 5) async throws {
            base = FileManager.default.temporaryDirectory.appendingPathComponent("imagegen-cli-\(UUID().uuidString)")
            let root = base.appendingPathComponent("projects")
            try FileManager.default.createDirectory(at: root.appendingPathComponent("film"), withIntermediateDirectories: true)
            try Data(CLIProcessTests.storyboard.utf8).write(to: base.appendingPathComponent("storyboard.json"))
            try Data(#"{"offline":{"latencyMilliseconds":\#(latencyMs)}}"#.utf8).write(to: base.appendingPathComponent("config.json"))
            (server, port) = try await Self.launchServer(base: base)
        }

        static func launchServer(base: URL, port: Int = 0) async throws -> (ChildProcess, Int) {
            let server = try ChildProcess(
                "imagegen-server",
                arguments: [
                    "--listen", "127.0.0.1:\(port)", "--projects-root", base.appendingPathComponent("projects").path,
                    "--state-dir", base.appendingPathComponent("state").path,
                    "--config", base.appendingPathComponent("config.json").path,
                ],
                environment: Self.noKeys)
            return (server, try await server.port())
        }

        /// Stops the server gracefully (its running jobs stay in the state directory) and starts a
        /// new one over the same folders (on the same port when `samePort`), which resumes them.
        mutating func restartServer(samePort: Bool = false) async throws {
            _ = try await server.stop()
            (server, port) = try await Self.launchServer(base: base, port: samePort ? port : 0)
        }

        /// Keys in the test's environment must not turn the offline server into a billed one.
        static let noKeys: [String: String?] = [
            "IMAGEGEN_KEYS_ILLUSTRATION": nil, "IMAGEGEN_KEYS_CLEAR": nil, "IMAGEGEN_KEYS_CONSISTENT": nil,
        ]

        var storyboardPath: String { base.appendingPathComponent("storyboard.json").path }
        var projectPath: String { base.appendingPathComponent("projects/film").path }

        /// Runs `imagegen` with `arguments` (and --server) to its end.
        func cli(_ arguments: [String], server withServer: Bool = true) async throws -> (status: Int32, stdout: String, stderr: String) {
            let process = try ChildProcess(
                "imagegen", arguments: arguments + (withServer ? ["--server", "127.0.0.1:\(port)"] : []),
                environment: Self.noKeys)
            let status = try await process.waitForExit(timeout: .seconds(60))
            return (status, process.stdout, process.stderr)
        }

        func stop() async {
            _ = try? await server.stop()
            try? FileManager.default.removeItem(at: base)
        }
    }

    @Test("generate prints one plain line per event when not a terminal, then a summary; exit 0")
    func plainOutput() async throws {
        let fixture = try await Fixture()
        let (status, stdout, stderr) = try await fixture.cli(["generate", fixture.storyboardPath, "--project", "film"])
        await fixture.stop()
        #expect(status == 0, "stderr: \(stderr)")
        let lines = stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("#1 accepted job=job-") == true, "\(lines.first ?? "")")
        #expect(lines.contains { $0.contains(" finished completed ") })
        #expect(lines.contains { $0.contains("beat clear 1/1.2 done") })
        #expect(lines.contains("  consistent: 3/3 done"))
        #expect(!stdout.contains("\u{1B}["), "no escapes when not a terminal")
        let eventSeqs = lines.filter { $0.hasPrefix("#") }.compactMap { Int($0.dropFirst().prefix { $0.isNumber }) }
        #expect(eventSeqs == Array(1...eventSeqs.count))
    }

    @Test("--json prints every event as one JSON object per line, seqs without gaps")
    func jsonOutput() async throws {
        let fixture = try await Fixture()
        let (status, stdout, stderr) = try await fixture.cli(["generate", fixture.storyboardPath, "--project", "film", "--json"])
        await fixture.stop()
        #expect(status == 0, "stderr: \(stderr)")
        let objects = stdout.split(separator: "\n").filter { $0.hasPrefix("{") }.compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(objects.count > 10)
        #expect(objects.compactMap { $0["seq"] as? Int } == Array(1...objects.count))
        #expect(objects.first?["kind"] as? String == "accepted")
        #expect(objects.last?["kind"] as? String == "finished")
        let finished = objects.last?["finished"] as? [String: Any]
        #expect(finished?["state"] as? String == "completed")
    }

    @Test("in a terminal, generate draws live bars per style")
    func terminalBars() async throws {
        let fixture = try await Fixture(latencyMs: 30)
        let command = [productsDirectory().appendingPathComponent("imagegen").path, "generate", fixture.storyboardPath,
            "--project", "film", "--server", "127.0.0.1:\(fixture.port)"].joined(separator: " ")
        let script = try ChildProcess("/usr/bin/script", arguments: ["-qfec", command, "/dev/null"])
        let status = try await script.waitForExit(timeout: .seconds(60))
        await fixture.stop()
        #expect(status == 0, "output: \(script.stdout)")
        let output = script.stdout
        #expect(output.contains("\u{1B}[2K"), "lines are redrawn in place")
        #expect(output.contains("█"))
        for style in ["illustration", "clear", "consistent"] {
            #expect(output.contains("\(style) ") && output.contains("3/3 100.0%"), "\(style)")
        }
        #expect(output.contains("job job-"))
    }

    @Test("Ctrl-C detaches without stopping the job and says how to reattach; watch follows it to the end")
    func detachAndReattach() async throws {
        let fixture = try await Fixture(latencyMs: 1500)
        let command = [productsDirectory().appendingPathComponent("imagegen").path, "generate", fixture.storyboardPath,
            "--project", "film", "--server", "127.0.0.1:\(fixture.port)"].joined(separator: " ")
        let input = Pipe()
        let script = try ChildProcess("/usr/bin/script", arguments: ["-qfec", command, "/dev/null"], standardInput: input.fileHandleForReading)
        let deadline = ContinuousClock.now + .seconds(20)
        while !script.stdout.contains("job job-"), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        // Ctrl-C through the terminal, repeated until the tool exits (a busy machine may be slow to
        // deliver the first); the job takes several seconds, so the tool is still following it.
        let typing = ContinuousClock.now + .seconds(10)
        while script.isRunning, ContinuousClock.now < typing {
            try input.fileHandleForWriting.write(contentsOf: Data([0x03]))
            try await Task.sleep(for: .milliseconds(200))
        }
        let status = try await script.waitForExit(timeout: .seconds(20))
        #expect(status == 130, "output: \(script.stdout)")
        let output = script.stdout
        guard let range = output.range(of: #"imagegen watch (job-[0-9a-f]+) --after \d+"#, options: .regularExpression) else {
            Issue.record("no reattach hint in: \(output)")
            await fixture.stop()
            return
        }
        let jobID = output[range].split(separator: " ")[2]
        let (watchStatus, watchOutput, _) = try await fixture.cli(["watch", String(jobID)])
        #expect(watchStatus == 0, "\(watchOutput)")
        #expect(watchOutput.contains("job \(jobID) completed"))
        await fixture.stop()
    }

    @Test("watch --after a seq from before a server restart: a note, then the resumed run from its start, with higher seqs")
    func watchAcrossRestart() async throws {
        // The first server cannot finish the job (a minute per image), however slow the machine is;
        // the server that resumes it renders fast.
        var fixture = try await Fixture(latencyMs: 60_000)
        let (startStatus, startOutput, startError) = try await fixture.cli(
            ["generate", fixture.storyboardPath, "--project", "film", "--detach", "--json"])
        #expect(startStatus == 0, "stderr: \(startError)")
        let accepted = Self.jsonLines(startOutput).first
        let jobID = try #require(accepted?["job_id"] as? String, "\(startOutput)")
        #expect(accepted?["seq"] as? Int == 1)
        try Data(#"{"offline":{"latencyMilliseconds":5}}"#.utf8).write(to: fixture.base.appendingPathComponent("config.json"))
        try await fixture.restartServer()
        let (status, stdout, stderr) = try await fixture.cli(["watch", jobID, "--after", "1", "--json"])
        await fixture.stop()
        #expect(status == 0, "stdout: \(stdout)\nstderr: \(stderr)")
        #expect(stderr.contains("note:") && stderr.contains("server restarted"), "stderr: \(stderr)")
        let objects = Self.jsonLines(stdout)
        let seqs = objects.compactMap { $0["seq"] as? Int }
        let first = try #require(seqs.first)
        #expect(first > 2, "the resumed run's seqs go on above the first run's")
        #expect(seqs == Array(first..<first + seqs.count))
        #expect(objects.allSatisfy { $0["job_id"] as? String == jobID })
        #expect((objects.last?["finished"] as? [String: Any])?["state"] as? String == "completed", "stdout: \(stdout)")
    }

    @Test("watch follows a job across a restart of its server: it connects again, then follows the resumed run to its end")
    func watchReconnectsAcrossRestart() async throws {
        var fixture = try await Fixture(latencyMs: 60_000)
        let (startStatus, startOutput, startError) = try await fixture.cli(
            ["generate", fixture.storyboardPath, "--project", "film", "--detach", "--json"])
        #expect(startStatus == 0, "stderr: \(startError)")
        let jobID = try #require(Self.jsonLines(startOutput).first?["job_id"] as? String, "\(startOutput)")
        let watch = try ChildProcess("imagegen", arguments: ["watch", jobID, "--json", "--server", "127.0.0.1:\(fixture.port)"], environment: Fixture.noKeys)
        let deadline = ContinuousClock.now + .seconds(20)
        while Self.jsonLines(watch.stdout).isEmpty && watch.isRunning && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        try Data(#"{"offline":{"latencyMilliseconds":5}}"#.utf8).write(to: fixture.base.appendingPathComponent("config.json"))
        try await fixture.restartServer(samePort: true)
        let status = try await watch.waitForExit(timeout: .seconds(60))
        await fixture.stop()
        #expect(status == 0, "stdout: \(watch.stdout)\nstderr: \(watch.stderr)")
        #expect(watch.stderr.contains("watching job \(jobID) again"), "stderr: \(watch.stderr)")
        let objects = Self.jsonLines(watch.stdout)
        let seqs = objects.compactMap { $0["seq"] as? Int }
        #expect(zip(seqs, seqs.dropFirst()).allSatisfy { $0 < $1 }, "\(seqs)")
        #expect(objects.first?["kind"] as? String == "accepted" && objects.dropFirst().contains { $0["kind"] as? String == "accepted" }, "both runs' accepted events")
        #expect((objects.last?["finished"] as? [String: Any])?["state"] as? String == "completed", "stdout: \(watch.stdout)")
    }

    static func jsonLines(_ text: String) -> [[String: Any]] {
        text.split(separator: "\n").filter { $0.hasPrefix("{") }.compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    @Test("status, jobs, cancel, sheet and exit codes")
    func otherCommands() async throws {
        let fixture = try await Fixture(latencyMs: 5)
        _ = try await fixture.cli(["generate", fixture.storyboardPath, "--project", "film"])
        let (statusCode, statusText, _) = try await fixture.cli(["status", "--project", "film"])
        #expect(statusCode == 0)
        #expect(statusText.contains("completed"))
        #expect(statusText.contains("clear: 3/3 100.0%"))
        let (jobsCode, jobsText, _) = try await fixture.cli(["jobs"])
        #expect(jobsCode == 0)
        #expect(jobsText.contains("completed  9/9"))
        // No coordination database: the server lists itself alone, its finished job not among its jobs.
        let (serversCode, serversText, serversError) = try await fixture.cli(["servers"])
        #expect(serversCode == 0, "\(serversError)")
        #expect(serversText.contains("(no coordination database: this server alone)") && serversText.contains("(this server)  0 job(s)"), "\(serversText)")
        let (_, serversJSON, _) = try await fixture.cli(["servers", "--json"])
        let server = try #require(try JSONSerialization.jsonObject(with: Data(serversJSON.utf8)) as? [String: Any], "\(serversJSON)")
        #expect(server["this_server"] as? Bool == true && server["coordinated"] as? Bool == false && (server["address"] as? String)?.isEmpty == false, "\(server)")

        let (sheetCode, sheetText, sheetError) = try await fixture.cli(["sheet", "--project", fixture.projectPath, "--storyboard", fixture.storyboardPath], server: false)
        #expect(sheetCode == 0, "\(sheetError)")
        #expect(sheetText.contains("contact_sheet.html"))
        let html = try String(contentsOfFile: fixture.projectPath + "/contact_sheet.html", encoding: .utf8)
        #expect(html.components(separatedBy: "<img ").count - 1 == 9)

        // A bad storyboard: refused before anything starts, naming the beat.
        let bad = fixture.base.appendingPathComponent("bad.json")
        try Data(#"{"shots":[{"id":"1","beats":[{"id":"1.1","prompt":""}]}]}"#.utf8).write(to: bad)
        let (badCode, _, badError) = try await fixture.cli(["generate", bad.path, "--project", "film"])
        #expect(badCode != 0)
        #expect(badError.contains("1.1"), "\(badError)")
        // A project outside the root: PERMISSION_DENIED, exit non-zero.
        let (escapeCode, _, escapeError) = try await fixture.cli(["generate", fixture.storyboardPath, "--project", "../.."])
        #expect(escapeCode != 0)
        #expect(escapeError.contains("PERMISSION_DENIED") || escapeError.contains("outside"), "\(escapeError)")
        // Unknown job: a clear error.
        let (unknownCode, _, unknownError) = try await fixture.cli(["cancel", "job-nope"])
        #expect(unknownCode != 0)
        #expect(unknownError.contains("job-nope"))
        await fixture.stop()
    }

    @Test("estimate on a partly done project leaves out what is done, prices online and batch, counts waves; bad input exits nonzero")
    func estimate() async throws {
        let fixture = try await Fixture(latencyMs: 1)
        // Render shot 2 only: shot 1 (1.1 hard cut → 1.2 continue) is still to do.
        let shot2 = fixture.base.appendingPathComponent("shot2.json")
        try Data(#"{"shots":[{"id":"2","beats":[{"id":"2.1","prompt":"a harbour","transition":"hard_cut"}]}]}"#.utf8).write(to: shot2)
        let (generated, _, generateError) = try await fixture.cli(["generate", shot2.path, "--project", "film", "--styles", "consistent"])
        #expect(generated == 0, "\(generateError)")
        let arguments = ["estimate", fixture.storyboardPath, "--project", fixture.projectPath, "--styles", "consistent"]
        let (code, text, error) = try await fixture.cli(arguments, server: false)
        #expect(code == 0, "\(error) \(text)")
        // 2 images at $0.067 online, $0.0335 in batch; the chain 1.1 → 1.2 takes two waves.
        #expect(text.contains("consistent (gemini-3.1-flash-image 1K, delivery online): 2 to generate, 1 done; online $0.134, batch $0.067; 2 waves"), "\(text)")
        #expect(text.contains("total: 2 images; online $0.134, batch $0.067"), "\(text)")
        let (jsonCode, json, _) = try await fixture.cli(arguments + ["--json", "--delivery", "batch"], server: false)
        #expect(jsonCode == 0)
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        let style = try #require((object?["styles"] as? [[String: Any]])?.first)
        #expect(style["to_generate"] as? Int == 2 && style["skipped"] as? Int == 1 && style["waves"] as? Int == 2)
        #expect(style["delivery"] as? String == "batch")
        #expect(abs((style["batch_cost_usd"] as? Double ?? 0) - 0.067) < 1e-9)
        for (bad, expected) in [
            (["estimate", fixture.base.appendingPathComponent("missing.json").path], "missing.json"),
            (arguments + ["--delivery", "sometimes"], "--delivery: must be online, batch or auto"),
            (["estimate", fixture.storyboardPath, "--styles", "nope"], "unknown style \"nope\""),
        ] {
            let (badCode, _, badError) = try await fixture.cli(bad, server: false)
            #expect(badCode != 0, "\(bad)")
            #expect(badError.contains(expected), "\(badError)")
        }
        await fixture.stop()
    }

    @Test("generate refuses a bad --delivery or --batch-deadline before contacting the server",
          arguments: [(["--delivery", "later"], "--delivery: must be online, batch or auto"), (["--batch-deadline", "-5"], "--batch-deadline")])
    func badLaneFlags(flags: [String], expected: String) async throws {
        let fixture = try await Fixture(latencyMs: 1)
        let (code, _, error) = try await fixture.cli(["generate", fixture.storyboardPath, "--project", "film"] + flags)
        #expect(code != 0)
        #expect(error.contains(expected), "\(error)")
        await fixture.stop()
    }

    @Test("demo renders the sample storyboard offline and writes the contact sheet")
    func demo() async throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("imagegen-demo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: base) }
        let process = try ChildProcess(
            "imagegen", arguments: ["demo", "--project", base.appendingPathComponent("demo").path, "--latency-ms", "1"],
            environment: Fixture.noKeys)
        #expect(try await process.waitForExit(timeout: .seconds(60)) == 0, "\(process.stderr)")
        #expect(process.stdout.contains("contact sheet: "))
        for style in ["illustration", "clear", "consistent"] {
            let image = base.appendingPathComponent("demo/generated_images/\(style)/Shot_3/Beat_3.3.png")
            #expect(FileManager.default.fileExists(atPath: image.path), "\(image.path)")
        }
        #expect(FileManager.default.fileExists(atPath: base.appendingPathComponent("demo/contact_sheet.html").path))
    }
}
