import Foundation
import ImageGenEngine
import Testing

@Suite("Storyboard validation", .timeLimit(.minutes(1)))
struct StoryboardTests {
    @Test func parsesTransitionsAndDefaults() throws {
        let board = try Storyboard.parse(
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
            try Storyboard(shots: [.init(id: "3", beats: [.init(id: id, prompt: "p")])])
        }
        #expect(error?.code == .invalidStoryboard)
        #expect(error?.problems.count == 1)
        #expect(error?.problems.first?.hasPrefix("shot 3, beat #1: ") == true)
        #expect(error?.problems.first?.contains(expected) == true)
    }

    @Test(arguments: ["1", "a.b-c_D", "..a", String(repeating: "y", count: 64)])
    func acceptsGoodIDs(id: String) throws {
        let board = try Storyboard(shots: [.init(id: id, beats: [.init(id: id, prompt: "p")])])
        #expect(board.beatCount == 1)
    }

    @Test func rejectsBadShotID() {
        let error = #expect(throws: EngineError.self) {
            try Storyboard(shots: [.init(id: "../x", beats: [.init(id: "1", prompt: "p")])])
        }
        #expect(error?.problems == ["shot #1: id \"../x\" " + "is not allowed: use 1-64 characters from A-Z a-z 0-9 . _ - (not \".\" or \"..\")"])
    }

    @Test func reportsEveryProblemNamingShotAndBeat() {
        let error = #expect(throws: EngineError.self) {
            try Storyboard(shots: [
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
        let error = #expect(throws: EngineError.self) { try Storyboard.parse(json: Data(#"{"shots":[]}"#.utf8)) }
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
        let error = #expect(throws: EngineError.self) { try Storyboard.parse(json: Data(json.utf8)) }
        #expect(error?.code == .invalidStoryboard)
        let text = error.map { ([$0.message] + $0.problems).joined(separator: "\n") } ?? ""
        #expect(text.contains(expected), "\(text)")
    }

    @Test func jsonProblemsAreAllListed() {
        let json = #"{"shots":[{"id":"1","beats":[{"id":"1.1","prompt":""},{"id":"a/b","prompt":"x","transition":"wipe"}]},{"id":"1","beats":[{"id":"1.1","prompt":"z"}]}]}"#
        let error = #expect(throws: EngineError.self) { try Storyboard.parse(json: Data(json.utf8)) }
        #expect(error?.problems.count == 4, "\(error?.problems ?? [])")
        #expect(error?.problems.contains("shot 1, beat 1.1: prompt is empty") == true)
    }
}
