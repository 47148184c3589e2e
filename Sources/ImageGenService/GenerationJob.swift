import Foundation
import ImageGenEngine
import ImageGenRPC
import ImageGenWire
import Synchronization

/// One job of the service: what it renders, its numbered events, and its state as clients see it.
/// The job belongs to the server, not to any call: calls only watch it.
final class GenerationJob: Sendable {
    /// Why a job's run should stop early.
    enum StopReason: Sendable { case cancelledByClient }

    let id: String
    /// The project as clients name it (relative to the projects root).
    let projectDir: String
    let project: URL
    let request: StartGenerationRequest
    let storyboard: ImageGenEngine.Storyboard
    let styles: [String]
    /// Identifies "the same work": storyboard, styles and force.
    let fingerprint: String
    /// The job's events, each encoded once when published and sent as those bytes to every watcher.
    let events: EventLog<EncodedMessage<ProgressEvent>>
    let createdUnixMs: Int64

    private struct State {
        var state: ImageGenWire.JobState = .queued
        var styles: [ImageGenWire.StyleProgress]
        var message = ""
        var startedUnixMs: Int64 = 0
        var finishedUnixMs: Int64 = 0
        var usage = Usage()
        var beats: [String: BeatStatus] = [:]
        var beatOrder: [String] = []
        var imageJob: ImageJob?
        var pausedBeforeStart = false
        var stopRequested: StopReason?
        var stopWaiter: CheckedContinuation<Void, Never>?
        var accepted: ProgressEvent?
    }

    private let state: Mutex<State>

    init(
        id: String, projectDir: String, project: URL, request: StartGenerationRequest,
        storyboard: ImageGenEngine.Storyboard, styles: [String], fingerprint: String, retention: Int, watcherBuffer: Int
    ) {
        self.id = id
        self.projectDir = projectDir
        self.project = project
        self.request = request
        self.storyboard = storyboard
        self.styles = styles
        self.fingerprint = fingerprint
        self.events = EventLog(retention: retention, watcherBuffer: watcherBuffer)
        self.createdUnixMs = Self.nowMs()
        self.state = Mutex(State(styles: styles.map { ImageGenWire.StyleProgress(style: $0) }))
    }

    static func nowMs() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }

    // MARK: Events

    /// Numbers and stores an event, and folds it into the status.
    func publish(_ kind: ProgressEvent.Kind) {
        state.withLock { state in
            switch kind {
            case .style(let progress):
                if let index = state.styles.firstIndex(where: { $0.style == progress.style }) {
                    state.styles[index] = progress
                } else {
                    state.styles.append(progress)
                }
            case .message(let text):
                state.message = text
            case .beat(let beat):
                let key = "\(beat.style)/\(beat.shotID)/\(beat.beatID)"
                if state.beats[key] == nil { state.beatOrder.append(key) }
                var status = state.beats[key] ?? BeatStatus(style: beat.style, shotID: beat.shotID, beatID: beat.beatID)
                status.state = beat.state
                status.attempts = max(status.attempts, beat.attempt)
                if !beat.keyLabel.isEmpty { status.keyLabel = beat.keyLabel }
                status.error = beat.state == .failed || beat.state == .retrying ? beat.error : ""
                if !beat.outputPath.isEmpty { status.outputPath = beat.outputPath }
                if beat.bytes > 0 { status.bytes = beat.bytes }
                if !beat.sha256.isEmpty { status.sha256 = beat.sha256 }
                state.beats[key] = status
            case .finished(let finished):
                state.state = finished.state
                state.usage = finished.usage
                state.finishedUnixMs = Self.nowMs()
                if !finished.message.isEmpty { state.message = finished.message }
            case .accepted, .key:
                break
            }
        }
        let id = self.id
        var accepted: ProgressEvent?
        events.append { seq in
            let event = ProgressEvent(seq: seq, jobID: id, timeUnixMs: Self.nowMs(), kind: kind)
            if case .accepted = kind { accepted = event }
            return EncodedMessage(event)
        }
        if let accepted {
            state.withLock { $0.accepted = accepted }
        }
    }

    /// The job's accepted event (seq 1), marked `attached` for a caller that joins a running job.
    func acceptedEvent(attached: Bool) -> ProgressEvent? {
        state.withLock { state in
            guard var event = state.accepted, case .accepted(var accepted) = event.kind else { return nil }
            accepted.attached = attached
            if attached { accepted.styles = state.styles }
            event.kind = .accepted(accepted)
            return event
        }
    }

    // MARK: Life cycle

    /// Called when the engine job is made, just before it runs.
    func started(_ imageJob: ImageJob) {
        let pause = state.withLock { state -> Bool in
            state.imageJob = imageJob
            state.startedUnixMs = Self.nowMs()
            if state.state == .queued { state.state = .running }
            return state.pausedBeforeStart
        }
        if pause {
            imageJob.pause()
            state.withLock { $0.state = .paused }
        }
    }

    /// True once the job has finished (any final state).
    var isFinished: Bool { events.isFinished }

    var isActive: Bool {
        state.withLock { [.queued, .running, .paused].contains($0.state) }
    }

    /// Marks the job failed before it could run (e.g. the engine refused it).
    func failBeforeStart(_ message: String) {
        publish(.finished(JobFinished(state: .failed, message: message)))
    }

    /// Asks the running job to stop; its run observes it through `waitForStop()`.
    func requestStop(_ reason: StopReason) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.stopRequested == nil { state.stopRequested = reason }
            defer { state.stopWaiter = nil }
            return state.stopWaiter
        }
        waiter?.resume()
    }

    var stopReason: StopReason? { state.withLock { $0.stopRequested } }

    /// Returns when a stop is requested, or when the calling task is cancelled.
    func waitForStop() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    if state.stopRequested != nil || Task.isCancelled { return true }
                    state.stopWaiter = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                defer { state.stopWaiter = nil }
                return state.stopWaiter
            }
            waiter?.resume()
        }
    }

    /// Stops starting new requests (in-flight ones finish). Throws FAILED_PRECONDITION when finished.
    func pause() throws(RPCError) {
        let imageJob = try state.withLock { state throws(RPCError) -> ImageJob? in
            guard [.queued, .running, .paused].contains(state.state) else {
                throw RPCError(.failedPrecondition, "job \(id) has finished (\(state.state)); nothing to pause")
            }
            state.state = .paused
            if state.imageJob == nil { state.pausedBeforeStart = true }
            return state.imageJob
        }
        imageJob?.pause()
    }

    /// Lets a paused job go on. Throws FAILED_PRECONDITION when finished.
    func resume() throws(RPCError) {
        let imageJob = try state.withLock { state throws(RPCError) -> ImageJob? in
            guard [.queued, .running, .paused].contains(state.state) else {
                throw RPCError(.failedPrecondition, "job \(id) has finished (\(state.state)); nothing to resume")
            }
            state.pausedBeforeStart = false
            if state.state == .paused { state.state = state.imageJob == nil ? .queued : .running }
            return state.imageJob
        }
        imageJob?.resume()
    }

    // MARK: Status

    func status(includeBeats: Bool) -> ImageGenWire.JobStatus {
        let lastSeq = events.lastSeq
        return state.withLock { state in
            ImageGenWire.JobStatus(
                jobID: id, projectDir: projectDir, state: state.state, styles: state.styles, message: state.message,
                lastSeq: lastSeq, createdUnixMs: createdUnixMs, startedUnixMs: state.startedUnixMs,
                finishedUnixMs: state.finishedUnixMs, usage: state.usage,
                beats: includeBeats ? state.beatOrder.compactMap { state.beats[$0] } : [])
        }
    }
}
