import Foundation
import ImageGenEngine
@testable import ImageGenService
import ImageGenWire
import ImageGenTestSupport
import Testing

/// Pauses and resumes that race each other. Each one changes the job's life cycle, tells the engine
/// and is announced in one critical section, so the engine is never left paused under a job whose
/// status says running, and watchers see "paused" and "resumed" alternate, ending with the truth.
@Suite("Pause and resume race", .timeLimit(.minutes(2)), .hangWatchdog)
struct PauseRaceTests {
    @Test("40 concurrent pauses and resumes, then a resume: the job runs; announcements alternate", arguments: [1, 2, 3])
    func concurrentPausesAndResumes(round: Int) async throws {
        let sandbox = try ServiceSandbox()
        defer { sandbox.remove() }
        try sandbox.project("film")
        // An image takes a minute: the job is still running when the storm ends, however slow the
        // machine (at 20 ms a loaded run finished it during the storm). Whether the engine follows
        // the job is JobPauseRaceTests' to check, without sockets.
        try await withGenerationServer(sandbox, latency: .seconds(60)) { client, _ in
            let first = try await collect(try await client.startGeneration(
                StartGenerationRequest(projectDir: "film", storyboard: sampleStoryboard(shots: 3, beats: 8), detach: true)))
            let jobID = try #require(first.first?.jobID)
            _ = try await client.pauseGeneration(jobID)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<40 {
                    group.addTask {
                        if (index + round).isMultiple(of: 2) {
                            _ = try await client.pauseGeneration(jobID)
                        } else {
                            _ = try await client.resumeGeneration(jobID)
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await client.resumeGeneration(jobID).state == .running)
            _ = try await client.cancelGeneration(jobID)
            let events = try await collect(try await client.watchJob(jobID, afterSeq: 0))
            #expect(finished(events)?.state == .cancelled)
            let announcements = events.compactMap { event -> String? in
                guard case .message(let text) = event.kind else { return nil }
                if text.hasPrefix("paused") { return "paused" }
                return text == "resumed" ? "resumed" : nil
            }
            #expect(announcements.first == "paused", "\(announcements)")
            #expect(announcements.last == "resumed", "\(announcements)")
            for (earlier, later) in zip(announcements, announcements.dropFirst()) {
                #expect(earlier != later, "two '\(later)' in a row: \(announcements)")
            }
        }
    }
}

/// The same race without sockets: eight threads pausing and resuming one job as fast as they can
/// (before the engine was told under the lock, 2-3 of 2,000 bursts left it running under a paused job).
@Suite("Pause and resume race, on the job itself", .timeLimit(.minutes(1)), .hangWatchdog)
struct JobPauseRaceTests {
    @Test("after every burst of concurrent pauses and resumes the engine is paused exactly when the job says so")
    func engineFollowsTheJob() async throws {
        let (engineJob, project) = try JobLifeCycleTests.engineJob()
        defer { try? FileManager.default.removeItem(at: project) }
        let job = GenerationJob(
            id: "race", projectDir: "film", project: project, request: StartGenerationRequest(projectDir: "film"),
            storyboard: try ValidatedStoryboard(shots: [.init(id: "1", beats: [.init(id: "1.1", prompt: "a fox")])]),
            styles: ["clear"], fingerprint: "f", firstSeq: 1, seqReservation: 1_000_000, retention: 1_000_000,
            watcherBuffer: 16)
        job.started(engineJob)
        // The threads block: they run on Dispatch's threads, not the test's cooperative pool.
        let mismatches = await withCheckedContinuation { (continuation: CheckedContinuation<Int, Never>) in
            DispatchQueue.global().async {
                var mismatches = 0
                for burst in 0..<5_000 {
                    DispatchQueue.concurrentPerform(iterations: 8) { thread in
                        for step in 0..<50 {
                            if (thread + step + burst).isMultiple(of: 2) { try? job.pause() } else { try? job.resume() }
                        }
                    }
                    let paused = job.status(includeBeats: false).state == .paused
                    if paused != engineJob.isPaused { mismatches += 1 }
                }
                continuation.resume(returning: mismatches)
            }
        }
        #expect(mismatches == 0, "\(mismatches) of 5,000 bursts left the engine \(engineJob.isPaused ? "paused" : "running") under a job that said otherwise")
    }
}
