import Foundation
import ImageGenEngine
import ImageGenRPC
import ImageGenWire
import Synchronization

/// One job of the service: what it renders, its numbered events, and its state as clients see it.
/// The job belongs to the server, not to any call: calls only watch it.
final class GenerationJob: Sendable {
    /// Why a job's run should stop early.
    enum StopReason: Sendable {
        case cancelledByClient
        /// Another server holds the job's lease now (it took the job over): this run stops.
        case leaseLost
    }

    /// What became of an event handed to ``publish(_:)``.
    enum Publication: Sendable, Equatable {
        /// Numbered and stored (or dropped: the log is finished).
        case published
        /// Published, and fewer than half a reservation of seqs is left: reserve more now.
        case publishedRunningLow
        /// Not published: every reserved seq is issued. Reserve more, then publish again.
        case needsReservation
    }

    let id: String
    /// The project as clients name it (relative to the projects root).
    let projectDir: String
    let project: URL
    let request: StartGenerationRequest
    let storyboard: ValidatedStoryboard
    let styles: [String]
    /// Identifies "the same work": storyboard, styles and force.
    let fingerprint: String
    /// The job's events, each encoded once when published and sent as those bytes to every watcher.
    let events: EventLog<EncodedMessage<ProgressEvent>>
    let createdUnixMs: Int64
    /// How many seqs are reserved at a time (see ``seqReservationTarget``).
    let seqReservation: UInt64

    /// Where the job is in its life; each case holds what is valid in it.
    enum LifeCycle {
        /// Admitted; the engine job is not made yet. A pause asked now holds it from its start.
        case queued(paused: Bool)
        /// The engine job runs, or is held by a pause.
        case running(ImageJob, paused: Bool)
        /// A stop is asked; the run winds down (the engine job, if made, is being cancelled).
        case stopping(StopReason, ImageJob?, paused: Bool)
        /// The final event is published; `stoppedBy` is set when a stop ended it.
        case finished(JobState, stoppedBy: StopReason?)

        /// Queued, running, paused or stopping: not finished.
        var isActive: Bool {
            if case .finished = self { false } else { true }
        }

        /// The state clients see.
        var state: JobState {
            switch self {
            case .queued(let paused): paused ? .paused : .queued
            case .running(_, let paused): paused ? .paused : .running
            case .stopping(_, let engine, let paused): paused ? .paused : (engine == nil ? .queued : .running)
            case .finished(let state, _): state
            }
        }

        /// The engine job, once made and until the job finishes.
        var engine: ImageJob? {
            switch self {
            case .running(let engine, _): engine
            case .stopping(_, let engine, _): engine
            case .queued, .finished: nil
            }
        }

        /// The same phase, paused or not; nil when finished.
        func paused(_ paused: Bool) -> LifeCycle? {
            switch self {
            case .queued: .queued(paused: paused)
            case .running(let engine, _): .running(engine, paused: paused)
            case .stopping(let reason, let engine, _): .stopping(reason, engine, paused: paused)
            case .finished: nil
            }
        }

        var isPaused: Bool { state == .paused }
    }

    private struct State {
        var lifeCycle = LifeCycle.queued(paused: false)
        var styles: [StyleProgress]
        var message = ""
        var startedUnixMs: Int64 = 0
        var finishedUnixMs: Int64 = 0
        var usage = Usage()
        var beats: [String: BeatStatus] = [:]
        var beatOrder: [String] = []
        var accepted: ProgressEvent?
        /// Whether the last pause announcement said "paused": announcements follow the life cycle
        /// (see ``announcePause()``), so they come in the order of the changes, one per change.
        var announcedPaused = false
        /// Tasks in ``wait(until:)``, woken to re-check their condition when the life cycle, the
        /// accepted event or the end of the events changes.
        var waiters = WaiterList()
        /// The highest seq this run may issue: saved in the state file before it is granted here.
        var seqGrantedThrough: UInt64
    }

    private let state: Mutex<State>

    init(
        id: String, projectDir: String, project: URL, request: StartGenerationRequest,
        storyboard: ValidatedStoryboard, styles: [String], fingerprint: String, firstSeq: UInt64,
        seqReservation: UInt64, retention: Int, watcherBuffer: Int
    ) {
        self.id = id
        self.projectDir = projectDir
        self.project = project
        self.request = request
        self.storyboard = storyboard
        self.styles = styles
        self.fingerprint = fingerprint
        self.events = EventLog(firstSeq: firstSeq, retention: retention, watcherBuffer: watcherBuffer)
        self.seqReservation = max(1, seqReservation)
        self.createdUnixMs = Self.nowMs()
        self.state = Mutex(State(styles: styles.map { StyleProgress(style: $0) }, seqGrantedThrough: firstSeq - 1))
    }

    static func nowMs() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }

    // MARK: Events

    /// Numbers and stores an event, and folds it into the status, unless every seq granted to
    /// this run is issued: then nothing happens and the caller reserves more and publishes again
    /// (see ``JobManager``), so that no seq is issued before the state file reserves it.
    func publish(_ kind: ProgressEvent.Kind) -> Publication {
        var wakeUps = WakeUps.none
        defer { wakeUps.resume() }
        return state.withLock { state in publish(kind, in: &state, wakeUps: &wakeUps) }
    }

    /// Announces the job's pause state when it differs from the last announcement: "paused" or
    /// "resumed", decided and numbered in one critical section with the changes themselves, so
    /// that concurrent pauses and resumes are announced in the order they took effect and the
    /// last announcement matches the job. Nil when there is nothing to announce.
    func announcePause() -> Publication? {
        var wakeUps = WakeUps.none
        defer { wakeUps.resume() }
        return state.withLock { state -> Publication? in
            let paused = state.lifeCycle.isPaused
            guard paused != state.announcedPaused, state.lifeCycle.isActive else { return nil }
            let text = paused ? "paused: no new requests start; those in flight finish" : "resumed"
            let publication = publish(.message(text), in: &state, wakeUps: &wakeUps)
            if publication != .needsReservation { state.announcedPaused = paused }
            return publication
        }
    }

    private func publish(_ kind: ProgressEvent.Kind, in state: inout State, wakeUps: inout WakeUps) -> Publication {
        let id = self.id
        let half = seqReservation / 2
        do {
            let lastSeq = events.lastSeq
            if lastSeq >= state.seqGrantedThrough && !events.isFinished { return .needsReservation }
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
                if case .stopping(let reason, _, _) = state.lifeCycle {
                    state.lifeCycle = .finished(finished.state, stoppedBy: reason)
                } else {
                    state.lifeCycle = .finished(finished.state, stoppedBy: nil)
                }
                state.usage = finished.usage
                state.finishedUnixMs = Self.nowMs()
                if !finished.message.isEmpty { state.message = finished.message }
            case .accepted, .key:
                break
            }
            // A run stopped for a lost lease did not end the job: the server that holds its lease
            // now goes on with it and numbers its final event. Watchers here are told to watch again.
            if case .finished(_, .leaseLost?) = state.lifeCycle { return .published }
            var accepted: ProgressEvent?
            let seq = events.append { seq in
                let event = ProgressEvent(seq: seq, jobID: id, timeUnixMs: Self.nowMs(), kind: kind)
                if case .accepted = kind { accepted = event }
                return EncodedMessage(event)
            }
            if let accepted {
                state.accepted = accepted
                wakeUps = state.waiters.takeAll()
            }
            guard let seq else { return .published }
            // The final event is the last: no need to reserve more after it.
            if case .finished = kind { return .published }
            return seq + half > state.seqGrantedThrough ? .publishedRunningLow : .published
        }
    }

    /// The seq bound to save for this job now: beyond every seq issued, by a whole reservation.
    func seqReservationTarget() -> UInt64 {
        let lastSeq = events.lastSeq
        return state.withLock { max($0.seqGrantedThrough, lastSeq + seqReservation) }
    }

    /// The highest seq the run may issue now.
    var seqGrantedThrough: UInt64 { state.withLock { $0.seqGrantedThrough } }

    /// Lets the run issue seqs through `bound`, once the state file holds it (never lowers it).
    func grantSeqs(through bound: UInt64) {
        state.withLock { $0.seqGrantedThrough = max($0.seqGrantedThrough, bound) }
    }

    /// The job's accepted event (its run's first), marked `attached` for a caller that joins a
    /// running job. A caller that attaches while the job is still being admitted (its progress
    /// files read, its state saved) waits for it; nil only if the job ended without one or the
    /// calling task is cancelled.
    func acceptedEvent(attached: Bool) async -> ProgressEvent? {
        while true {
            let (event, waiting) = state.withLock { state -> (ProgressEvent?, Bool) in
                guard var event = state.accepted, case .accepted(var accepted) = event.kind else {
                    return (nil, !events.isFinished)
                }
                accepted.attached = attached
                if attached { accepted.styles = state.styles }
                event.kind = .accepted(accepted)
                return (event, false)
            }
            if let event { return event }
            guard waiting, !Task.isCancelled else { return nil }
            await waitForAccepted()
        }
    }

    /// Returns once the accepted event is published, the events end, or the task is cancelled.
    private func waitForAccepted() async {
        await wait { [events] in $0.accepted != nil || events.isFinished }
    }

    /// Ends the job's event log: watchers get what is queued, then their streams end; callers
    /// still waiting for an accepted event stop waiting.
    func finishEvents() {
        events.finish()
        state.withLock { $0.waiters.takeAll() }.resume()
    }

    // MARK: Life cycle

    /// Called when the engine job is made, just before it runs: a pause asked while the job was
    /// queued holds it from its start.
    func started(_ engine: ImageJob) {
        // The engine is told under the lock, so a resume cannot come between the two.
        state.withLock { state in
            state.startedUnixMs = Self.nowMs()
            switch state.lifeCycle {
            case .queued(let paused):
                state.lifeCycle = .running(engine, paused: paused)
                if paused { engine.pause() }
            case .stopping(let reason, _, let paused):
                state.lifeCycle = .stopping(reason, engine, paused: paused)
                if paused { engine.pause() }
            case .running, .finished:
                break
            }
        }
    }

    /// True once the job has finished (any final state).
    var isFinished: Bool { events.isFinished }

    var isActive: Bool {
        state.withLock { $0.lifeCycle.isActive }
    }

    /// True while a restarted server should resume the job: it is active, or a server shutdown
    /// (not a client) stopped it.
    var isResumable: Bool {
        state.withLock { state in
            switch state.lifeCycle {
            case .queued, .running, .stopping: true
            case .finished(let final, let stoppedBy): final == .cancelled && stoppedBy == nil
            }
        }
    }

    /// Asks the job to stop; its run observes it through `waitForStop()`. A finished job stays as it is.
    func requestStop(_ reason: StopReason) {
        let wakeUps = state.withLock { state -> WakeUps in
            switch state.lifeCycle {
            case .queued(let paused): state.lifeCycle = .stopping(reason, nil, paused: paused)
            case .running(let engine, let paused): state.lifeCycle = .stopping(reason, engine, paused: paused)
            case .stopping, .finished: break
            }
            return state.waiters.takeAll()
        }
        wakeUps.resume()
    }

    /// Why the job was asked to stop, if it was.
    var stopReason: StopReason? {
        state.withLock { state in
            switch state.lifeCycle {
            case .stopping(let reason, _, _): reason
            case .finished(_, let stoppedBy): stoppedBy
            case .queued, .running: nil
            }
        }
    }

    /// Returns when a stop is requested, or when the calling task is cancelled.
    func waitForStop() async {
        await wait { state in
            switch state.lifeCycle {
            case .stopping: true
            case .finished(_, let stoppedBy): stoppedBy != nil
            case .queued, .running: false
            }
        }
    }

    /// Returns true once the job has finished (its events ended), false when `limit` passes first
    /// or the calling task is cancelled. Woken by ``finishEvents()``, never by polling.
    func waitUntilFinished(within limit: Duration) async -> Bool {
        await withTaskGroup(of: Void.self) { race in
            race.addTask { await self.wait { [events = self.events] _ in events.isFinished } }
            race.addTask { try? await Task.sleep(for: limit) }
            await race.next()
            race.cancelAll()
        }
        return events.isFinished
    }

    /// Suspends until `isSatisfied` holds, re-checked each time the waiters are woken, or until the
    /// calling task is cancelled.
    private func wait(until isSatisfied: (State) -> Bool) async {
        await state.wait(on: \.waiters, until: isSatisfied)
    }

    /// Stops starting new requests (in-flight ones finish); ``announcePause()`` tells watchers.
    /// Throws FAILED_PRECONDITION when finished.
    func pause() throws(RPCError) {
        try setPaused(true, verb: "pause")
    }

    /// Lets a paused job go on; ``announcePause()`` tells watchers. Throws FAILED_PRECONDITION when finished.
    func resume() throws(RPCError) {
        try setPaused(false, verb: "resume")
    }

    private func setPaused(_ paused: Bool, verb: String) throws(RPCError) {
        try state.withLock { state throws(RPCError) in
            guard let next = state.lifeCycle.paused(paused) else {
                throw RPCError(.failedPrecondition, "job \(id) has finished (\(state.lifeCycle.state)); nothing to \(verb)")
            }
            state.lifeCycle = next
            // Under the lock: concurrent pauses and resumes reach the engine in the order they
            // changed the life cycle.
            if let engine = state.lifeCycle.engine {
                if paused { engine.pause() } else { engine.resume() }
            }
        }
    }

    // MARK: Status

    func status(includeBeats: Bool) -> JobStatus {
        let lastSeq = events.lastSeq
        return state.withLock { state in
            JobStatus(
                jobID: id, projectDir: projectDir, state: state.lifeCycle.state, styles: state.styles, message: state.message,
                lastSeq: lastSeq, createdUnixMs: createdUnixMs, startedUnixMs: state.startedUnixMs,
                finishedUnixMs: state.finishedUnixMs, usage: state.usage,
                beats: includeBeats ? state.beatOrder.compactMap { state.beats[$0] } : [])
        }
    }
}
