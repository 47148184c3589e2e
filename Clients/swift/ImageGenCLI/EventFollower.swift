import ArgumentParser
import Foundation
public import ImageGenClient
public import ImageGenRPC
public import ImageGenWire
import Synchronization
import UnixSignals

/// Follows a job's events to its end and shows them (bars, plain lines or JSON lines). A watcher
/// that falls behind is reattached from its last seq; Ctrl-C detaches without stopping the job and
/// says how to reattach; the end prints a summary.
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

    public init(client: ImageGenerationClient, mode: OutputMode, write: @escaping @Sendable (String) -> Void = writeToStandardOutput) {
        self.client = client
        self.mode = mode
        self.write = write
    }

    /// Shows the events of `first`, then of `watch` from the last seq seen if the stream is cut
    /// off for falling behind; returns how it ended and the board of what was seen.
    public func follow(_ first: RPCResponseStream<ProgressEvent>) async throws -> (Ending, ProgressBoard) {
        let box = BoardBox()
        // Trap Ctrl-C before anything is shown, so a person who sees the job can always detach.
        let signals = await UnixSignalsSequence(trapping: .sigint)
        let ending = try await withThrowingTaskGroup(of: Ending?.self) { group in
            group.addTask {
                try await self.consume(first, box: box)
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

    private func consume(_ first: RPCResponseStream<ProgressEvent>, box: BoardBox) async throws -> Ending {
        var stream = first
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

