public import Foundation
import Logging
internal import Synchronization

/// One rendering of a storyboard into a project, in several styles at once. Made by
/// ``ImageEngine/makeJob(storyboard:project:options:)``.
///
/// ```swift
/// let job = try engine.makeJob(storyboard: board, project: projectURL)
/// async let summary = job.run()          // cancel the surrounding task to stop it
/// for await event in job.events { print(event) }
/// print(await summary.state)
/// ```
///
/// ``run()`` is the parent of every request: cancelling the task that runs it aborts requests in
/// flight and leaves the progress files consistent, so a new job resumes where this one stopped.
public final class ImageJob: Sendable {
    /// Everything the job does, ending with ``EngineEvent/jobFinished(_:)``. One consumer.
    public let events: AsyncStream<EngineEvent>
    /// The project directory.
    public let project: URL
    private let control: JobControl
    let runners: [StyleRunner]
    private let logger: Logger
    private let started = Mutex(false)

    init(events: AsyncStream<EngineEvent>, project: URL, control: JobControl, runners: [StyleRunner], logger: Logger) {
        self.events = events
        self.project = project
        self.control = control
        self.runners = runners
        self.logger = logger
    }

    /// Renders every selected style concurrently (one child task per style) and returns when all
    /// have finished or the calling task is cancelled. Call it once.
    public func run() async -> JobSummary {
        let clock = ContinuousClock()
        let start = clock.now
        let first = started.withLock { started in
            defer { started = true }
            return !started
        }
        guard first else {
            return JobSummary(state: .failed, styles: [], duration: .zero)
        }
        for runner in runners {
            let text: String
            if runner.style.keys.isEmpty {
                text = "style \(runner.style.name): no keys configured; using the \(runner.provider.name) renderer"
            } else {
                let projects = Set(runner.style.keys.map(\.project)).count
                text = "style \(runner.style.name): provider \(runner.provider.name) with \(runner.style.keys.count) key\(runner.style.keys.count == 1 ? "" : "s") in \(projects) project\(projects == 1 ? "" : "s"), model \(runner.style.model)"
            }
            control.emit(.message(style: runner.style.name, text: text))
            logger.info("style starting", metadata: ["style": "\(runner.style.name)", "provider": "\(runner.provider.name)"])
        }
        let summaries = await withTaskGroup(of: (Int, StyleReport).self) { group in
            for (index, runner) in runners.enumerated() {
                group.addTask {
                    let summary = await runner.run()
                    self.control.emit(.styleFinished(summary))
                    return (index, summary)
                }
            }
            var results: [(Int, StyleReport)] = []
            for await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
        let state: JobOutcome
        if summaries.contains(where: { $0.state == .cancelled }) {
            state = .cancelled
        } else if !summaries.isEmpty && summaries.allSatisfy({ $0.state == .failed }) {
            state = .failed
        } else if summaries.allSatisfy({ $0.state == .completed }) {
            state = .completed
        } else {
            state = .completedWithErrors
        }
        let summary = JobSummary(state: state, styles: summaries, duration: clock.now - start)
        control.emit(.jobFinished(summary))
        control.finishEvents()
        logger.info("job finished", metadata: ["state": "\(state.rawValue)"])
        return summary
    }

    /// Stops starting new requests; those in flight finish. Emits no event: whoever pauses the job
    /// announces it (the service does, once per pause).
    public func pause() {
        control.setPaused(true)
    }

    /// Starts dispatching again after ``pause()``. Emits no event, like ``pause()``.
    public func resume() {
        control.setPaused(false)
    }

    /// Switches every style to online delivery for the rest of the job: no new batch is sent, the
    /// batches out are cancelled (at their next poll), and what they did not process goes online;
    /// a beat a batch already processed is never sent again. Emits a message per style.
    public func goOnline() {
        control.goOnline()
    }

    /// Whether dispatching is paused.
    public var isPaused: Bool { control.isPaused }
}
