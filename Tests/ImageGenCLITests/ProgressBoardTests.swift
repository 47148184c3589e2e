import ImageGenCLI
import ImageGenWire
import ImageGenTestSupport
import Testing

@Suite("ProgressBoard and renderers", .timeLimit(.minutes(1)), .hangWatchdog)
struct ProgressBoardTests {
    static func progress(_ style: String, _ completed: UInt32, of total: UInt32, failed: UInt32 = 0, cooling: UInt32 = 0) -> StyleProgress {
        StyleProgress(
            style: style, total: total, completed: completed, failed: failed, inFlight: 1,
            percent: Double(completed) * 100 / Double(total), keysTotal: 2, keysCooling: cooling, keysDisabled: 0)
    }

    static func events() -> [ProgressEvent] {
        [
            ProgressEvent(seq: 1, jobID: "j1", timeUnixMs: 0, kind: .accepted(JobAccepted(styles: [progress("clear", 2, of: 10), progress("illustration", 0, of: 10)], resumed: 2))),
            ProgressEvent(seq: 2, jobID: "j1", timeUnixMs: 1_000, kind: .style(progress("clear", 3, of: 10))),
            ProgressEvent(seq: 3, jobID: "j1", timeUnixMs: 3_000, kind: .style(progress("clear", 5, of: 10, cooling: 1))),
            ProgressEvent(seq: 4, jobID: "j1", timeUnixMs: 3_500, kind: .message("style clear: key cooled for 26 s")),
            ProgressEvent(seq: 5, jobID: "j1", timeUnixMs: 4_000, kind: .beat(BeatEvent(style: "illustration", shotID: "1", beatID: "1.2", state: .failed, attempt: 5, error: "blocked (IMAGE_SAFETY)"))),
            ProgressEvent(seq: 6, jobID: "j1", timeUnixMs: 4_000, kind: .style(progress("illustration", 0, of: 10, failed: 1))),
        ]
    }

    @Test("folds events into per-style lines, with rate and ETA from new images only")
    func fold() {
        var board = ProgressBoard()
        for event in Self.events() { board.apply(event) }
        #expect(board.jobID == "j1")
        #expect(board.lastSeq == 6)
        #expect(board.resumed == 2)
        let clear = board.styles.first { $0.style == "clear" }
        #expect(clear?.completed == 5)
        #expect(clear?.percent == 50)
        // 3 new images (2 → 5) between t=1 s and t=3 s? The first new image at 1 s, then 2 more by 3 s.
        #expect(clear?.rate == 1.5)
        #expect(clear?.etaSeconds.map { Int($0.rounded()) } == 3)
        #expect(clear?.keysCooling == 1)
        #expect(board.styles.first { $0.style == "illustration" }?.failed == 1)
        #expect(board.message == "illustration 1/1.2: blocked (IMAGE_SAFETY)")
    }

    @Test("a replayed (older) event is ignored")
    func replayOverlap() {
        var board = ProgressBoard()
        for event in Self.events() { board.apply(event) }
        board.apply(ProgressEvent(seq: 2, jobID: "j1", timeUnixMs: 9_000, kind: .style(Self.progress("clear", 3, of: 10))))
        #expect(board.styles.first { $0.style == "clear" }?.completed == 5)
    }

    @Test("the terminal drawing has one bar per style and the message, and redraws in place")
    func terminal() {
        var board = ProgressBoard()
        for event in Self.events() { board.apply(event) }
        let lines = TerminalRenderer.lines(board, width: 120)
        #expect(lines.count == 4)
        #expect(lines[0] == "job j1")
        #expect(lines[1].hasPrefix("clear "))
        #expect(lines[1].contains("5/10"))
        #expect(lines[1].contains(" 50.0%"))
        #expect(lines[1].contains("1.50 img/s"))
        #expect(lines[1].contains("ETA 3s"))
        #expect(lines[1].contains("cooling 1/2 keys"))
        #expect(lines[2].contains("failed 1"))
        #expect(lines[3].contains("IMAGE_SAFETY"))
        var renderer = TerminalRenderer(width: 120)
        let first = renderer.redraw(board)
        #expect(!first.contains("\u{1B}[4A"))
        let second = renderer.redraw(board)
        #expect(second.hasPrefix("\u{1B}[4A"), "the second drawing moves up over the first")
    }

    @Test("durations", arguments: [(0.4, "0s"), (42, "42s"), (185, "3m05s"), (3_720, "1h02m")])
    func durations(seconds: Double, text: String) {
        #expect(TerminalRenderer.formatDuration(seconds) == text)
    }

    @Test("plain lines name every field that matters")
    func plainLines() {
        let lines = Self.events().map(EventFormatter.plainLine)
        #expect(lines[0] == "#1 accepted job=j1 resumed=2 clear=2/10 illustration=0/10")
        #expect(lines[1].hasPrefix("#2 style clear 3/10 30.0% failed=0 in_flight=1"))
        #expect(lines[3] == "#4 message \"style clear: key cooled for 26 s\"")
        #expect(lines[4] == "#5 beat illustration 1/1.2 failed attempt=5 error=\"blocked (IMAGE_SAFETY)\"")
        let finished = ProgressEvent(seq: 9, jobID: "j1", kind: .finished(JobFinished(
            state: .completedWithErrors, styles: [StyleSummary(style: "clear", total: 10, done: 9, failed: 1)])))
        #expect(EventFormatter.plainLine(finished) == "#9 finished completed_with_errors clear=9/10 (1 failed)")
    }

    /// A key event names the quota the key spends (project and model), in the plain line, the JSON
    /// line and the board's message.
    @Test("key events name their project and model", arguments: [
        (KeyEvent(style: "clear", keyLabel: "clear#1…abcd", state: .cooling, coolDownMs: 12_000, reason: "rate limited",
                  project: "film-a", model: "gemini-3.1-flash-image"),
         "clear: project film-a, gemini-3.1-flash-image cooling 12 s"),
        (KeyEvent(style: "ink", keyLabel: "ink#2…wxyz", state: .cooling, coolDownMs: 1_250, reason: "rate limited",
                  project: "film-b", model: "gemini-2.5-flash-image"),
         "ink: project film-b, gemini-2.5-flash-image cooling 1.25 s"),
        (KeyEvent(style: "ink", keyLabel: "ink#2…wxyz", state: .ready, reason: "cool-down over", project: "film-b",
                  model: "gemini-2.5-flash-image"),
         "ink: project film-b, gemini-2.5-flash-image ready"),
        (KeyEvent(style: "ink", keyLabel: "ink#1…abcd", state: .cooling, coolDownMs: 3_000), "ink cooling 3 s"),
    ])
    func keyLines(key: KeyEvent, quota: String) throws {
        let event = ProgressEvent(seq: 7, jobID: "j1", timeUnixMs: 5_000, kind: .key(key))
        #expect(EventFormatter.quotaLine(key) == quota)
        #expect(EventFormatter.plainLine(event) == "#7 key \(quota) key=\(key.keyLabel)"
            + (key.reason.isEmpty ? "" : " reason=\"\(key.reason)\""))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(EventFormatter.jsonLine(event).utf8)) as? [String: Any])
        let fields = try #require(object["key"] as? [String: Any])
        #expect(fields["project"] as? String == key.project)
        #expect(fields["model"] as? String == key.model)
        #expect(fields["cool_down_ms"] as? Int == Int(key.coolDownMs))
        var board = ProgressBoard()
        board.apply(event)
        #expect(board.message == (key.state == .cooling ? quota : ""))
    }

    @Test("JSON lines parse and carry the kind and its fields")
    func jsonLines() throws {
        for event in Self.events() {
            let line = EventFormatter.jsonLine(event)
            #expect(!line.contains("\n"))
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(object["seq"] as? Int == Int(event.seq))
            #expect(object["job_id"] as? String == "j1")
            let kind = try #require(object["kind"] as? String)
            #expect(object[kind] != nil)
        }
        let beat = try #require(try JSONSerialization.jsonObject(with: Data(EventFormatter.jsonLine(Self.events()[4]).utf8)) as? [String: Any])
        let fields = try #require(beat["beat"] as? [String: Any])
        #expect(fields["state"] as? String == "failed")
        #expect(fields["beat_id"] as? String == "1.2")
    }
}

import Foundation

@Suite("ProgressBoard: the batch segment", .timeLimit(.minutes(1)), .hangWatchdog)
struct ProgressBoardBatchTests {
    @Test("beats in batch are their own segment with the wave's state, in bars, plain lines and JSON",
          arguments: [("pending", 12), ("running", 3), ("succeeded", 1)])
    func inBatchSegment(state: String, inBatch: UInt32) {
        var progress = ProgressBoardTests.progress("clear", 2, of: 20)
        progress.inBatch = inBatch
        progress.batch = BatchProgress(wave: 2, batches: 1, state: state, requestCount: UInt64(inBatch), pending: UInt64(inBatch))
        var board = ProgressBoard()
        board.apply(ProgressEvent(seq: 1, jobID: "j1", timeUnixMs: 0, kind: .style(progress)))
        let line = TerminalRenderer.lines(board, width: 160)[1]
        #expect(line.contains("\(inBatch) in batch, \(state)"), "\(line)")
        let event = ProgressEvent(seq: 1, jobID: "j1", timeUnixMs: 0, kind: .style(progress))
        #expect(EventFormatter.plainLine(event).contains("in_batch=\(inBatch) batch_wave=2 batch_state=\(state)"))
        #expect(EventFormatter.jsonLine(event).contains(#""in_batch":\#(inBatch)"#))
        // No batch out: no segment.
        board.apply(ProgressEvent(seq: 2, jobID: "j1", timeUnixMs: 1, kind: .style(ProgressBoardTests.progress("clear", 20, of: 20))))
        #expect(!TerminalRenderer.lines(board, width: 160)[1].contains("in batch"))
    }
}
