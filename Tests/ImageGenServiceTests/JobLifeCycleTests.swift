import Foundation
import ImageGenEngine
@testable import ImageGenService
import ImageGenWire
import Logging
import ImageGenTestSupport
import Testing

/// A service job's life cycle on its own: the state clients see in each phase, and what a pause
/// or resume makes of it.
@Suite("Job life cycle", .timeLimit(.minutes(1)), .hangWatchdog)
struct JobLifeCycleTests {
    /// A phase, built in the test (a running phase needs a real engine job).
    enum Phase: String, CaseIterable, Sendable {
        case queued, queuedPaused, running, runningPaused, stoppingQueued, stoppingRunning, stoppingPaused
        case completed, cancelledByClient, cancelledByShutdown
    }

    static func make(_ phase: Phase, engine job: ImageJob) -> GenerationJob.LifeCycle {
        switch phase {
        case .queued: .queued(paused: false)
        case .queuedPaused: .queued(paused: true)
        case .running: .running(job, paused: false)
        case .runningPaused: .running(job, paused: true)
        case .stoppingQueued: .stopping(.cancelledByClient, nil, paused: false)
        case .stoppingRunning: .stopping(.cancelledByClient, job, paused: false)
        case .stoppingPaused: .stopping(.cancelledByClient, job, paused: true)
        case .completed: .finished(.completed, stoppedBy: nil)
        case .cancelledByClient: .finished(.cancelled, stoppedBy: .cancelledByClient)
        case .cancelledByShutdown: .finished(.cancelled, stoppedBy: nil)
        }
    }

    static let expected: [Phase: (state: JobState, active: Bool, hasEngine: Bool)] = [
        .queued: (.queued, true, false), .queuedPaused: (.paused, true, false),
        .running: (.running, true, true), .runningPaused: (.paused, true, true),
        .stoppingQueued: (.queued, true, false), .stoppingRunning: (.running, true, true),
        .stoppingPaused: (.paused, true, true), .completed: (.completed, false, false),
        .cancelledByClient: (.cancelled, false, false), .cancelledByShutdown: (.cancelled, false, false),
    ]

    static func engineJob() throws -> (ImageJob, URL) {
        let project = FileManager.default.temporaryDirectory
            .appendingPathComponent("imagegen-lifecycle-\(UUID().uuidString)", isDirectory: true)
        let board = try ValidatedStoryboard(shots: [.init(id: "1", beats: [.init(id: "1.1", prompt: "a fox")])])
        let engine = ImageEngine(configuration: EngineConfiguration(), logger: Logger(label: "test-lifecycle"))
        return (try engine.makeJob(storyboard: board, project: project), project)
    }

    @Test("each phase shows its state, is active until finished, holds the engine job while it runs", arguments: Phase.allCases)
    func phases(phase: Phase) throws {
        let (job, project) = try Self.engineJob()
        defer { try? FileManager.default.removeItem(at: project) }
        let lifeCycle = Self.make(phase, engine: job)
        let expected = try #require(Self.expected[phase])
        #expect(lifeCycle.state == expected.state)
        #expect(lifeCycle.isActive == expected.active)
        #expect((lifeCycle.engine != nil) == expected.hasEngine)
    }

    @Test("a pause and a resume keep the phase; a finished job has none", arguments: Phase.allCases, [true, false])
    func pauseAndResume(phase: Phase, paused: Bool) throws {
        let (job, project) = try Self.engineJob()
        defer { try? FileManager.default.removeItem(at: project) }
        let lifeCycle = Self.make(phase, engine: job)
        guard let next = lifeCycle.paused(paused) else {
            #expect(!lifeCycle.isActive)
            return
        }
        #expect(lifeCycle.isActive)
        #expect(next.isPaused == paused)
        #expect((next.engine != nil) == (lifeCycle.engine != nil))
        if !paused {
            // Resumed, it shows what it was before the pause: queued until its engine job is made.
            #expect(next.state == (next.engine == nil ? .queued : .running))
        }
    }
}
