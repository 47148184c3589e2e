import Foundation
import ImageGenEngine
import ImageGenTestSupport
import Testing

@Suite("Storyboard validation", .timeLimit(.minutes(1)), .hangWatchdog)
struct StoryboardTests {
    @Test func parsesTransitionsAndDefaults() throws {
        let board = try ValidatedStoryboard.parse(
            json: Data(
                #"{"shots":[{"id":"1","beats":[{"id":"1.1","prompt":"a","transition":"hard_cut"},{"id":"1.2","prompt":"b"},{"id":"1.3","prompt":"c","transition":"continue"}]}]}"#
                    .utf8))
        #expect(board.beatCount == 3)
        #expect(board.shots[0].beats.map(\.transition) == [.hardCut, .cut, .continue])
    }

    @Test(arguments: [
        ("", "id \"\" is not allowed"),
        (".", "id \".\" is not allowed"),
        ("..", "id \"..\" is not allowed"),
        ("a/b", "id \"a/b\" is not allowed"),
        ("a b", "id \"a b\" is not allowed"),
        ("ü", "id \"ü\" is not allowed"),
        (String(repeating: "x", count: 65), "is not allowed"),
        ("..\\x", "is not allowed"),
    ])
    func rejectsBadBeatIDs(id: String, expected: String) throws {
        let error = #expect(throws: EngineError.self) {
            try ValidatedStoryboard(shots: [.init(id: "3", beats: [.init(id: id, prompt: "p")])])
        }
        #expect(error?.code == .invalidStoryboard)
        #expect(error?.problems.count == 1)
        #expect(error?.problems.first?.hasPrefix("shot 3, beat #1: ") == true)
        #expect(error?.problems.first?.contains(expected) == true)
    }

    @Test(arguments: ["1", "a.b-c_D", "..a", String(repeating: "y", count: 64)])
    func acceptsGoodIDs(id: String) throws {
        let board = try ValidatedStoryboard(shots: [.init(id: id, beats: [.init(id: id, prompt: "p")])])
        #expect(board.beatCount == 1)
    }

    @Test func rejectsBadShotID() {
        let error = #expect(throws: EngineError.self) {
            try ValidatedStoryboard(shots: [.init(id: "../x", beats: [.init(id: "1", prompt: "p")])])
        }
        #expect(error?.problems == ["shot #1: id \"../x\" " + "is not allowed: use 1-64 characters from A-Z a-z 0-9 . _ - (not \".\" or \"..\")"])
    }

    @Test func reportsEveryProblemNamingShotAndBeat() {
        let error = #expect(throws: EngineError.self) {
            try ValidatedStoryboard(shots: [
                .init(id: "1", beats: [.init(id: "1.1", prompt: "ok")]),
                .init(id: "1", beats: [.init(id: "1.1", prompt: "ok")]),
                .init(id: "3", beats: [.init(id: "3.1", prompt: "x"), .init(id: "3.2", prompt: "  "), .init(id: "3.1", prompt: "y")]),
                .init(id: "4", beats: []),
            ])
        }
        #expect(error?.message == "storyboard has 4 problems")
        #expect(error?.problems == [
            "shot 1: duplicate shot id",
            "shot 3, beat 3.2: prompt is empty",
            "shot 3, beat 3.1: duplicate beat id in this shot",
            "shot 4: has no beats",
        ])
    }

    @Test func rejectsEmptyStoryboard() {
        let error = #expect(throws: EngineError.self) { try ValidatedStoryboard.parse(json: Data(#"{"shots":[]}"#.utf8)) }
        #expect(error?.problems == ["storyboard has no shots"])
    }

    @Test(arguments: [
        ("not json", "storyboard is not valid JSON"),
        ("[1,2]", "the top level must be an object"),
        (#"{"scenes":[]}"#, "\"shots\" must be an array"),
        (#"{"shots":[{"id":"1","beats":[{"id":"1.1","prompt":"a","transition":"fade"}]}]}"#, "shot 1, beat 1.1: transition must be one of cut, hard_cut, continue"),
        (#"{"shots":[{"id":"1","beats":[{"id":"1.1"}]}]}"#, "shot 1, beat 1.1: \"prompt\" must be a string"),
        (#"{"shots":[{"id":"1","beats":[{"id":2,"prompt":"a"}]}]}"#, "shot 1, beat #1: \"id\" must be a string"),
        (#"{"shots":[{"id":"1"}]}"#, "shot 1: \"beats\" must be an array"),
        (#"{"shots":[7]}"#, "shot #1: must be an object"),
    ])
    func rejectsMalformedJSON(json: String, expected: String) {
        let error = #expect(throws: EngineError.self) { try ValidatedStoryboard.parse(json: Data(json.utf8)) }
        #expect(error?.code == .invalidStoryboard)
        let text = error.map { ([$0.message] + $0.problems).joined(separator: "\n") } ?? ""
        #expect(text.contains(expected), "\(text)")
    }

    @Test func jsonProblemsAreAllListed() {
        let json = #"{"shots":[{"id":"1","beats":[{"id":"1.1","prompt":""},{"id":"a/b","prompt":"x","transition":"wipe"}]},{"id":"1","beats":[{"id":"1.1","prompt":"z"}]}]}"#
        let error = #expect(throws: EngineError.self) { try ValidatedStoryboard.parse(json: Data(json.utf8)) }
        #expect(error?.problems.count == 4, "\(error?.problems ?? [])")
        #expect(error?.problems.contains("shot 1, beat 1.1: prompt is empty") == true)
    }
}

/// Storyboard caps and the bound on the problems listed.
@Suite("Storyboard limits", .timeLimit(.minutes(1)), .hangWatchdog)
struct StoryboardLimitsTests {
    @Test("at most 20 problems are listed, then how many more", arguments: [0, 1, 19, 20, 21, 200_000])
    func problemsAreBounded(emptyBeats: Int) {
        let shots = [ValidatedStoryboard.Shot(id: "s", beats: [ValidatedStoryboard.Beat(id: "ok", prompt: "a fox")] + (0..<emptyBeats).map { ValidatedStoryboard.Beat(id: "b\($0)", prompt: " ") })]
        let error: EngineError?
        do { _ = try ValidatedStoryboard(shots: shots); error = nil } catch let thrown { error = thrown }
        guard emptyBeats > 0 else {
            #expect(error == nil)
            return
        }
        #expect(error?.message == "storyboard has \(emptyBeats) problem\(emptyBeats == 1 ? "" : "s")")
        let listed = min(emptyBeats, ProblemList.maxListed)
        #expect(error?.problems.prefix(listed) == ArraySlice((0..<listed).map { "shot s, beat b\($0): prompt is empty" }))
        #expect(error?.problems.count == listed + (emptyBeats > listed ? 1 : 0))
        if emptyBeats > listed { #expect(error?.problems.last == "and \(emptyBeats - listed) more problem\(emptyBeats - listed == 1 ? "" : "s")") }
    }

    @Test("beat and prompt caps", arguments: [
        (3, 10, 3, "abcdefghij", nil),
        (3, 10, 4, "abcdefghij", "storyboard has 4 beats (at most 3 are allowed)"),
        (3, 10, 1, "abcdefghijk", "shot s, beat b0: prompt is 11 bytes (at most 10 are allowed)"),
        (3, 10, 1, "ééééé", nil),
        (3, 10, 1, "éééééé", "shot s, beat b0: prompt is 12 bytes (at most 10 are allowed)"),
    ] as [(Int, Int, Int, String, String?)])
    func caps(maxBeats: Int, maxPromptBytes: Int, beats: Int, prompt: String, problem: String?) {
        let shots = [ValidatedStoryboard.Shot(id: "s", beats: (0..<beats).map { ValidatedStoryboard.Beat(id: "b\($0)", prompt: prompt) })]
        do {
            _ = try ValidatedStoryboard(shots: shots, limits: StoryboardLimits(maxBeats: maxBeats, maxPromptBytes: maxPromptBytes))
            #expect(problem == nil)
        } catch {
            #expect(error.problems == [problem].compactMap { $0 })
        }
    }

    @Test("a project's storyboard.json is held to the same caps as a storyboard in a request", arguments: [
        (2, 10, nil), (1, 10, "storyboard has 2 beats (at most 1 are allowed)"),
        (2, 4, "shot s, beat b1: prompt is 5 bytes (at most 4 are allowed)"),
    ] as [(Int, Int, String?)])
    func projectStoryboardIsCapped(maxBeats: Int, maxPromptBytes: Int, problem: String?) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("storyboard-caps-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let json = #"{"shots":[{"id":"s","beats":[{"id":"b0","prompt":"a"},{"id":"b1","prompt":"a fox"}]}]}"#
        try Data(json.utf8).write(to: folder.appendingPathComponent("storyboard.json"))
        let project = try ProjectDirectory(url: folder)
        let limits = StoryboardLimits(maxBeats: maxBeats, maxPromptBytes: maxPromptBytes)
        do {
            let board = try ValidatedStoryboard.load(from: project, limit: 1 << 20, limits: limits)
            #expect(problem == nil)
            #expect(board?.beatCount == 2)
        } catch {
            #expect(error.code == .invalidStoryboard)
            #expect(error.problems == [problem].compactMap { $0 })
        }
    }
}
