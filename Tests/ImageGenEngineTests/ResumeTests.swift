import Foundation
import ImageGenEngine
import ImageGenTestSupport
import Synchronization
import Testing

@Suite("Resume, cancellation and pause", .timeLimit(.minutes(2)), .hangWatchdog)
struct ResumeTests {
    static func engine(_ provider: ScriptedProvider, continuity: Bool = false) -> ImageEngine {
        let styles = [
            fastStyle("clear", keys: keys("clear", [(nil, "AIzaKey000000001")]), continuity: continuity),
            fastStyle("consistent", keys: keys("consistent", [(nil, "AIzaKey000000002")]), continuity: true),
        ]
        return ImageEngine(configuration: fastConfiguration(styles: styles, durability: .full), logger: testLogger) { _ in provider }
    }

    @Test func secondRunSkipsEverythingAndRegeneratesWhatIsMissing() async throws {
        let dir = TempDirectory("resume")
        let board = try makeStoryboard(shots: 2, beats: 3) { _, b in b == 1 ? .hardCut : .continue }
        let first = ScriptedProvider()
        let (s1, _) = await runJob(try Self.engine(first).makeJob(storyboard: board, project: dir.url))
        #expect(s1.state == .completed)
        #expect(first.recorded.count == 12)

        let again = ScriptedProvider()
        let (s2, events) = await runJob(try Self.engine(again).makeJob(storyboard: board, project: dir.url))
        #expect(s2.state == .completed)
        #expect(again.recorded.isEmpty)
        #expect(s2.styles.map(\.skipped) == [6, 6])
        #expect(beatUpdates(events, state: .skipped).count == 12)

        // A missing file, a corrupted file, and a file of the wrong size are regenerated.
        try FileManager.default.removeItem(at: dir.url.appendingPathComponent("generated_images/clear/Shot_1/Beat_1.1.png"))
        let corrupt = dir.url.appendingPathComponent("generated_images/clear/Shot_2/Beat_2.2.png")
        var bytes = try Data(contentsOf: corrupt)
        bytes[bytes.count - 20] ^= 0xFF
        try bytes.write(to: corrupt)
        let third = ScriptedProvider()
        let (s3, _) = await runJob(try Self.engine(third).makeJob(storyboard: board, project: dir.url))
        #expect(s3.state == .completed)
        #expect(Set(third.recorded.map(\.prompt)) == ["clear: scene 1 moment 1", "clear: scene 2 moment 2"])

        // force regenerates everything.
        let forced = ScriptedProvider()
        _ = await runJob(try Self.engine(forced).makeJob(storyboard: board, project: dir.url, options: JobOptions(force: true)))
        #expect(forced.recorded.count == 12)
    }

    @Test func changedPromptRegeneratesOnlyThatBeat() async throws {
        let dir = TempDirectory("changed")
        let board = try makeStoryboard(shots: 2, beats: 3)
        _ = await runJob(try Self.engine(ScriptedProvider()).makeJob(storyboard: board, project: dir.url, options: JobOptions(styles: ["clear"])))
        var changed = board
        changed.shots[1].beats[1].prompt = "a different moment"
        changed.shots[1].beats.append(.init(id: "2.4", prompt: "a new beat"))
        let provider = ScriptedProvider()
        let (summary, _) = await runJob(
            try Self.engine(provider).makeJob(storyboard: changed, project: dir.url, options: JobOptions(styles: ["clear"])))
        #expect(summary.state == .completed)
        #expect(Set(provider.recorded.map(\.prompt)) == ["clear: a different moment", "clear: a new beat"])
        #expect(summary.styles[0].skipped == 5)
    }

    @Test func changedPredecessorRegeneratesItsContinuations() async throws {
        let dir = TempDirectory("chain")
        let board = try makeStoryboard(shots: 1, beats: 3) { _, b in b == 1 ? .cut : .continue }
        _ = await runJob(try Self.engine(ScriptedProvider()).makeJob(storyboard: board, project: dir.url, options: JobOptions(styles: ["consistent"])))
        var changed = board
        changed.shots[0].beats[1].prompt = "changed"
        let provider = ScriptedProvider()
        _ = await runJob(try Self.engine(provider).makeJob(storyboard: changed, project: dir.url, options: JobOptions(styles: ["consistent"])))
        #expect(provider.recorded.map(\.prompt) == ["consistent: changed", "consistent: scene 1 moment 3"])
    }

    @Test func failedBeatsAreRetriedOnTheNextRun() async throws {
        let dir = TempDirectory("retryfailed")
        let board = try makeStoryboard(shots: 1, beats: 3)
        let failing = ScriptedProvider { request, _ in
            if request.prompt.hasSuffix("moment 2") { throw ProviderFailure.badRequest(message: "nope") }
            return nil
        }
        let (s1, _) = await runJob(try Self.engine(failing).makeJob(storyboard: board, project: dir.url, options: JobOptions(styles: ["clear"])))
        #expect(s1.state == .completedWithErrors)
        #expect(try progressRecords(dir.url, style: "clear")["1/1.2"]?.state == .failed)
        let status = try await ProjectStatus.read(project: dir.url, styles: ["clear"], storyboard: board)
        #expect(!status.isComplete && status.styles[0].failed == 1 && status.styles[0].done == 2)
        let provider = ScriptedProvider()
        let (s2, _) = await runJob(try Self.engine(provider).makeJob(storyboard: board, project: dir.url, options: JobOptions(styles: ["clear"])))
        #expect(s2.state == .completed)
        #expect(provider.recorded.map(\.prompt) == ["clear: scene 1 moment 2"])
    }

    @Test func tornJournalLineIsIgnored() async throws {
        let dir = TempDirectory("torn")
        let board = try makeStoryboard(shots: 1, beats: 4)
        _ = await runJob(try Self.engine(ScriptedProvider()).makeJob(storyboard: board, project: dir.url, options: JobOptions(styles: ["clear"])))
        // Simulate a crash mid-append: half a record at the end of the journal.
        let journal = dir.url.appendingPathComponent("image_progress_clear.journal")
        let handle = try FileHandle(forWritingTo: journal)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"attempts":1,"beat":"1.2","bytes":12,"shot":"1","sta"#.utf8))
        try handle.close()
        let provider = ScriptedProvider()
        let (summary, _) = await runJob(try Self.engine(provider).makeJob(storyboard: board, project: dir.url, options: JobOptions(styles: ["clear"])))
        #expect(summary.state == .completed)
        #expect(provider.recorded.isEmpty)
        #expect(try Data(contentsOf: journal).isEmpty)
    }

    @Test func cancellationLeavesAResumableState() async throws {
        let dir = TempDirectory("cancel")
        let board = try makeStoryboard(shots: 4, beats: 5)
        let slow = ScriptedProvider(latency: .milliseconds(40))
        let job = try Self.engine(slow).makeJob(storyboard: board, project: dir.url)
        let summary = await withTaskGroup(of: JobSummary?.self) { group in
            group.addTask { await job.run() }
            group.addTask {
                var done = 0
                for await event in job.events {
                    if case .beat(let beat) = event, beat.state == .done { done += 1 }
                    if done == 6 { return nil }
                }
                return nil
            }
            // Cancel once 6 images are done.
            var result: JobSummary?
            while let value = await group.next() {
                if let value { result = value } else { group.cancelAll() }
            }
            return result
        }
        let first = try #require(summary)
        #expect(first.state == .cancelled)
        var doneBefore = 0
        for style in ["clear", "consistent"] {
            let records = try progressRecords(dir.url, style: style)
            #expect(!records.values.contains { $0.state == .failed })
            for record in records.values where record.state == .done {
                doneBefore += 1
                let data = try Data(contentsOf: dir.url.appendingPathComponent(record.file!))
                #expect(data.count == record.bytes)
            }
        }
        #expect(doneBefore >= 6 && doneBefore < 40)
        let leftovers = try FileManager.default.subpathsOfDirectory(atPath: dir.url.path).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty)

        let provider = ScriptedProvider()
        let (second, _) = await runJob(try Self.engine(provider).makeJob(storyboard: board, project: dir.url))
        #expect(second.state == .completed)
        #expect(provider.recorded.count == 40 - doneBefore)
    }

    @Test func pauseStopsDispatchingAndResumeContinues() async throws {
        let dir = TempDirectory("pause")
        let board = try makeStoryboard(shots: 1, beats: 4)
        let provider = ScriptedProvider()
        let job = try Self.engine(provider).makeJob(storyboard: board, project: dir.url, options: JobOptions(styles: ["clear"]))
        job.pause()
        #expect(job.isPaused)
        async let summary = runJob(job)
        try await Task.sleep(for: .milliseconds(200))
        #expect(provider.recorded.isEmpty)
        #expect(job.isPaused)
        job.resume()
        let (result, _) = await summary
        #expect(result.state == .completed)
        #expect(provider.recorded.count == 4)
        #expect(!job.isPaused)
    }
}
