import ArgumentParser
import Foundation
public import ImageGenClient
public import ImageGenRPC
public import ImageGenWire
import Synchronization
import UnixSignals

/// Follows a job's events to its end and shows them (bars, plain lines or JSON lines). A watcher
/// that falls behind is reattached from its last seq at once, and one answered UNAVAILABLE (the
/// job's run moved to another server, or the server was briefly away; with `reconnect`, over a
/// new connection when the old one ended) or RESOURCE_EXHAUSTED before any event (a limit of
/// the server's) with growing waits for up to a bounded outage (``ReattachBackoff``); a watch from a seq the server no longer has
/// (from before a server restart) follows the job's current run from its start instead, with a
/// note; Ctrl-C detaches without stopping the job and says how to reattach; the end prints a summary.
public struct EventFollower: Sendable {
    /// How a follow ended.
    public enum Ending: Sendable, Equatable {
        /// The job finished in this state.
        case finished(JobState)
        /// The stream ended before the job did (a detached start).
        case streamEnded
        /// The person pressed Ctrl-C.
        case detached

        /// Ends the command with the exit code this ending calls for (returns for a plain end of stream).
        public func exit() throws {
            switch self {
            case .finished(let state): throw ExitCode.forJob(state)
            case .detached: throw ExitCode.detached
            case .streamEnded: return
            }
        }
    }

    let client: ImageGenerationClient
    let mode: OutputMode
    let write: @Sendable (String) -> Void
    /// Where notes for the person go (not the event output, which may be JSON lines).
    let note: @Sendable (String) -> Void
    /// How long UNAVAILABLE (or RESOURCE_EXHAUSTED before any event) is waited out by watching
    /// again (see ``ReattachBackoff``).
    let reattachWindow: Duration
    /// Opens a new connection when `client`'s has ended (the server restarted or went away);
    /// without it, a follow whose connection ended stops with its error.
    let reconnect: (@Sendable () async throws -> ImageGenerationClient)?

    public init(
        client: ImageGenerationClient, mode: OutputMode, write: @escaping @Sendable (String) -> Void = writeToStandardOutput,
        note: @escaping @Sendable (String) -> Void = writeToStandardError, reattachWindow: Duration = .seconds(120),
        reconnect: (@Sendable () async throws -> ImageGenerationClient)? = nil
    ) {
        self.client = client
        self.mode = mode
        self.write = write
        self.note = note
        self.reattachWindow = reattachWindow
        self.reconnect = reconnect
    }

    /// Shows the events of `first`, then of `watch` from the last seq seen if the stream is cut
    /// off for falling behind; returns how it ended and the board of what was seen. `watched`
    /// names the job and after_seq when `first` is a WatchJob stream: if the server answers
    /// OUT_OF_RANGE for a seq it no longer has (e.g. from before it restarted), the job's current
    /// run is followed from its start (after_seq 0).
    public func follow(
        _ first: RPCResponseStream<ProgressEvent>, watched: (jobID: String, afterSeq: UInt64)? = nil
    ) async throws -> (Ending, ProgressBoard) {
        let box = BoardBox()
        // Trap Ctrl-C before anything is shown, so a person who sees the job can always detach.
        let signals = await UnixSignalsSequence(trapping: .sigint)
        let ending = try await withThrowingTaskGroup(of: Ending?.self) { group in
            group.addTask {
                try await self.consume(first, watched: watched, box: box)
            }
            group.addTask {
                for await _ in signals { return .detached }
                return nil
            }
            var result: Ending = .streamEnded
            for try await ending in group {
                guard let ending else { continue }
                result = ending
                break
            }
            group.cancelAll()
            return result
        }
        let board = box.board
        write(summary(ending, board))
        return (ending, board)
    }

    private func consume(
        _ first: RPCResponseStream<ProgressEvent>, watched: (jobID: String, afterSeq: UInt64)?, box: BoardBox
    ) async throws -> Ending {
        var stream: RPCResponseStream<ProgressEvent>? = first
        var connection = client
        // The connection this follow opened (after `client`'s ended), closed when replaced or at the end.
        var reopened: ImageGenerationClient?
        defer { reopened?.close() }
        // A watch from a seq that may be of an earlier run of the job: of the watch asked for
        // until an event is shown, and of each watch again after an outage (the run may have moved).
        var rewind = watched
        var backoff = ReattachBackoff(window: reattachWindow)
        var renderer = TerminalRenderer(width: { if case .bars(let width) = mode { return width } else { return 100 } }())
        // The start of the current run, once followed from there (until an event of it is shown).
        var fromRunStart: (jobID: String, afterSeq: UInt64)?
        // Where to watch again from: after the last event shown, else where the watch began.
        func resume() -> (jobID: String, afterSeq: UInt64)? {
            if let fromRunStart { return fromRunStart }
            let board = box.board
            return board.jobID.isEmpty ? watched : (board.jobID, board.lastSeq)
        }
        // Whether an event came since the last watch: falling behind again is then progress.
        var progressed = false
        // An OUT_OF_RANGE answer to a watch from a seq that may be of an earlier run: the next
        // pass asks the job's status and follows the current run from its start.
        var outOfRange: (watch: (jobID: String, afterSeq: UInt64), error: RPCError)?
        while true {
            progressed = false
            do {
                let current: RPCResponseStream<ProgressEvent>
                if let stream {
                    current = stream
                } else {
                    if !connection.isOpen, let reconnect {
                        reopened?.close()
                        connection = try await reconnect()
                        reopened = connection
                    }
                    if let (watch, error) = outOfRange {
                        outOfRange = nil
                        current = try await rewound(watch, after: error, on: connection)
                        fromRunStart = (watch.jobID, 0)
                    } else {
                        guard let from = resume() else { throw RPCError(.internalError, "no job to watch again") }
                        current = try await connection.watchJob(from.jobID, afterSeq: from.afterSeq)
                    }
                }
                stream = nil
                for try await event in current {
                    backoff.reset()
                    rewind = nil
                    fromRunStart = nil
                    progressed = true
                    let board = box.apply(event)
                    switch mode {
                    case .json: write(EventFormatter.jsonLine(event) + "\n")
                    case .plain: write(EventFormatter.plainLine(event) + "\n")
                    case .bars: write(renderer.redraw(board))
                    }
                    if case .finished(let finished) = event.kind { return .finished(finished.state) }
                }
                return .streamEnded
            } catch let error as RPCError where error.code == .resourceExhausted && progressed {
                // Fell behind the server's buffer: the next pass watches again after the last event shown.
                continue
            } catch let error as RPCError where [.unavailable, .resourceExhausted].contains(error.code) && resume() != nil {
                // The job's run moved (its server died or lost the job's lease, and another takes
                // it over), the server is briefly away, or it refused this watcher for a limit
                // of its own (RESOURCE_EXHAUSTED before any event): watch again after a wait.
                guard connection.isOpen || reconnect != nil, let from = resume() else { throw error }
                try await waitToReattach(after: error, backoff: &backoff, jobID: from.jobID, afterSeq: from.afterSeq)
                rewind = from
            } catch let error as RPCError where error.code == .outOfRange && rewind != nil {
                // The seq watched from is not kept: older than what the server keeps, or of an
                // earlier run (before a restart or a take-over; the job goes on with higher seqs).
                // Unless it is beyond the job's events, follow the current run from its start.
                guard let watch = rewind, watch.afterSeq > 0 else { throw error }
                rewind = nil
                outOfRange = (watch, error)
            }
        }
    }

    /// The current run of `watch`'s job from its start, after `error` (OUT_OF_RANGE) answered a
    /// watch from a seq it no longer has; rethrows `error` when that seq is beyond the job's events.
    private func rewound(
        _ watch: (jobID: String, afterSeq: UInt64), after error: RPCError, on connection: ImageGenerationClient
    ) async throws -> RPCResponseStream<ProgressEvent> {
        let status = try await connection.getStatus(.jobID(watch.jobID))
        guard watch.afterSeq < status.lastSeq else { throw error }
        note("note: \(error.message)\nfollowing job \(watch.jobID) from the start of its current run (after_seq=0)\n")
        return try await connection.watchJob(watch.jobID, afterSeq: 0)
    }

    /// Waits before watching again after `error` (UNAVAILABLE, or RESOURCE_EXHAUSTED with no
    /// event since the last watch), saying so once per outage;
    /// rethrows it once the outage has lasted the follower's whole reattach window.
    private func waitToReattach(
        after error: RPCError, backoff: inout ReattachBackoff, jobID: String, afterSeq: UInt64
    ) async throws {
        let first = !backoff.inOutage
        guard let delay = backoff.delay() else {
            let still = error.code == .unavailable ? "unavailable" : "refused"
            note("note: job \(jobID) was still \(still) after watching it again for \(backoff.window)\n")
            throw error
        }
        if first { note("note: \(error.message)\nwatching job \(jobID) again after seq \(afterSeq)\n") }
        try await Task.sleep(for: delay)
    }

    func summary(_ ending: Ending, _ board: ProgressBoard) -> String {
        var lines: [String] = []
        switch ending {
        case .finished(let state):
            lines.append("job \(board.jobID) \(EventFormatter.name(state))")
            for style in board.finished?.styles ?? [] {
                var line = "  \(style.style): \(style.done)/\(style.total) done"
                if style.skipped > 0 { line += " (\(style.skipped) already done)" }
                if style.failed > 0 { line += ", \(style.failed) failed" }
                if !style.error.isEmpty { line += ": \(style.error)" }
                lines.append(line)
            }
        case .streamEnded:
            if !board.jobID.isEmpty {
                lines.append("job \(board.jobID) goes on; follow it with: imagegen watch \(board.jobID) --after \(board.lastSeq)")
            }
        case .detached:
            lines.append("detached; job \(board.jobID) goes on. Reattach with: imagegen watch \(board.jobID) --after \(board.lastSeq)")
        }
        return lines.map { $0 + "\n" }.joined()
    }
}

/// Writes text to standard output, unbuffered.
public func writeToStandardOutput(_ text: String) {
    FileHandle.standardOutput.write(Data(text.utf8))
}

/// Writes text to standard error, unbuffered.
public func writeToStandardError(_ text: String) {
    FileHandle.standardError.write(Data(text.utf8))
}

/// The board shared between the consuming task and the summary.
final class BoardBox: Sendable {
    private let state = Mutex(ProgressBoard())
    var board: ProgressBoard { state.withLock { $0 } }
    func apply(_ event: ProgressEvent) -> ProgressBoard {
        state.withLock { board in
            board.apply(event)
            return board
        }
    }
}

