import Foundation
import ImageGenClient
import ImageGenWire
import ImageGenTestSupport
import Testing

/// The client's storyboard file loader: the file's shape, checked before anything is sent.
@Suite("Storyboard file (client)", .timeLimit(.minutes(1)), .hangWatchdog)
struct StoryboardFileTests {
    @Test("every transition name reads as its wire value; a missing or null one is a cut", arguments: [
        (#","transition":"cut""#, Transition.cut), (#","transition":"hard_cut""#, .hardCut),
        (#","transition":"continue""#, .continue), ("", .cut), (#","transition":null"#, .cut),
    ])
    func transitions(field: String, expected: Transition) throws {
        let json = #"{"shots":[{"id":"1","beats":[{"id":"1.1","prompt":"a fox"\#(field)}]}]}"#
        let board = try StoryboardFile.decode(Data(json.utf8))
        #expect(board == Storyboard(shots: [Shot(id: "1", beats: [Beat(id: "1.1", prompt: "a fox", transition: expected)])]))
        #expect(Transition(jsonName: expected.jsonName) == expected)
    }

    @Test("a file of the wrong shape is refused, naming the place", arguments: [
        (#"[]"#, "storyboard"),
        (#"{"beats":[]}"#, "shots: missing"),
        (#"{"shots":{}}"#, "shots: expected"),
        (#"{"shots":[{"id":1,"beats":[]}]}"#, "shots[0].id: expected a string"),
        (#"{"shots":[{"id":"1","beats":[{"id":"1.1"}]}]}"#, "shots[0].beats[0].prompt: missing"),
        (#"{"shots":[{"id":"1","beats":[{"id":"1.1","prompt":"x","transition":"fade"}]}]}"#, "shot 1, beat 1.1: transition must be one of"),
        (#"{"shots":["#, "not valid JSON"),
    ])
    func wrongShape(json: String, expected: String) {
        #expect {
            _ = try StoryboardFile.decode(Data(json.utf8))
        } throws: { error in
            "\(error)".contains(expected)
        }
    }

    @Test("a missing file is named")
    func missingFile() {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("imagegen-no-such-\(UUID().uuidString).json")
        #expect {
            _ = try StoryboardFile.load(contentsOf: url)
        } throws: { error in
            "\(error)".contains(url.path)
        }
    }
}
