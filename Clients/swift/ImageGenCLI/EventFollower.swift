import ArgumentParser
import Foundation
public import ImageGenClient
public import ImageGenRPC
public import ImageGenWire
import Synchronization
import UnixSignals

/// Follows a job's events to its end and shows them (bars, plain lines or JSON lines). A watcher
/// that falls behind is reattached from its last seq; a watch from a seq the server no longer has
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

    public init(
        client: ImageGenerationClient, mode: OutputMode, write: @escaping @Sendable (String) -> Void = writeToStandardOutput,
        note: @escaping @Sendable (String) -> Void = writeToStandardError
    ) {
        self.client = client
        self.mode = mode
        self.write = write
        self.note = note
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
        var stream = first
        var fallback = watched
        var renderer = TerminalRenderer(width: { if case .bars(let width) = mode { return width } else { return 100 } }())
        while true {
            do {
                for try await event in stream {
                    let board = box.apply(event)
                    switch mode {
                    case .json: write(EventFormatter.jsonLine(event) + "\n")
                    case .plain: write(EventFormatter.plainLine(event) + "\n")
                    case .bars: write(renderer.redraw(board))
                    }
                    if case .finished(let finished) = event.kind { return .finished(finished.state) }
                }
                return .streamEnded
            } catch let error as RPCError where error.code == .resourceExhausted && !box.board.jobID.isEmpty {
                // Fell behind the server's buffer: reattach after the last event shown.
                let board = box.board
                stream = try await client.watchJob(board.jobID, afterSeq: board.lastSeq)
            } catch let error as RPCError where error.code == .outOfRange && box.board.lastSeq == 0 && fallback != nil {
                // Nothing shown yet: the after_seq asked for is not kept (older than what the server
                // keeps, or from before a restart; a resumed job goes on with higher seqs). Unless it
                // is beyond the job's events, follow the current run from its start.
                guard let watch = fallback, watch.afterSeq > 0 else { throw error }
                fallback = nil
                let status = try await client.getStatus(.jobID(watch.jobID))
                guard watch.afterSeq < status.lastSeq else { throw error }
                note("note: \(error.message)\nfollowing job \(watch.jobID) from the start of its current run (after_seq=0)\n")
                stream = try await client.watchJob(watch.jobID, afterSeq: 0)
            }
        }
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

