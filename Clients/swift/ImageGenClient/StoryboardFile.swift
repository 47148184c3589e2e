public import Foundation
public import ImageGenWire

/// Reads a storyboard JSON file into the wire's ``Storyboard``, for a client to send:
/// `{"shots":[{"id":"1","beats":[{"id":"1.1","prompt":"…","transition":"hard_cut"}]}]}`, where
/// `transition` is optional (`cut`, `hard_cut` or `continue`). Only the file's shape is checked
/// here; the storyboard's rules (ids usable in file names, no empty prompt, the server's limits)
/// are checked once, by the server that receives it.
public enum StoryboardFile {
    /// Reads and decodes `url`. Blocking (a small file read).
    public static func load(contentsOf url: URL) throws(StoryboardFileError) -> Storyboard {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw StoryboardFileError("cannot read storyboard \(url.path): \(error.localizedDescription)")
        }
        return try decode(data)
    }

    /// Decodes a storyboard's JSON.
    public static func decode(_ data: Data) throws(StoryboardFileError) -> Storyboard {
        let file: File
        do { file = try JSONDecoder().decode(File.self, from: data) } catch let error as DecodingError {
            throw StoryboardFileError("storyboard: \(describe(error))")
        } catch {
            throw StoryboardFileError("storyboard is not valid JSON: \(error.localizedDescription)")
        }
        var problems: [String] = []
        let shots = file.shots.map { shot in
            Shot(
                id: shot.id,
                beats: shot.beats.map { beat in
                    guard let name = beat.transition else { return Beat(id: beat.id, prompt: beat.prompt, transition: .cut) }
                    guard let transition = Transition(jsonName: name) else {
                        problems.append("shot \(shot.id), beat \(beat.id): transition must be one of cut, hard_cut, continue")
                        return Beat(id: beat.id, prompt: beat.prompt)
                    }
                    return Beat(id: beat.id, prompt: beat.prompt, transition: transition)
                })
        }
        if !problems.isEmpty {
            throw StoryboardFileError("storyboard has \(problems.count) problem\(problems.count == 1 ? "" : "s"): " + problems.prefix(10).joined(separator: "; "))
        }
        return Storyboard(shots: shots)
    }

    private struct File: Decodable {
        struct Shot: Decodable {
            var id: String
            var beats: [Beat]
        }
        struct Beat: Decodable {
            var id: String
            var prompt: String
            var transition: String?
        }
        var shots: [Shot]
    }

    /// "shots[0].beats[1].prompt: expected a string" rather than Foundation's description.
    private static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: ["."])
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "\(path(context.codingPath + [key])): missing"
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            return "\(path(context.codingPath)): expected \(type == String.self ? "a string" : type == [File.Beat].self || type == [File.Shot].self ? "an array" : "\(type)")"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not valid JSON" : "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}

extension Transition {
    /// The transition's name in a storyboard file (`cut`, `hard_cut`, `continue`).
    public var jsonName: String {
        switch self {
        case .cut: "cut"
        case .hardCut: "hard_cut"
        case .continue: "continue"
        }
    }

    /// The transition named `jsonName` in a storyboard file.
    public init?(jsonName: String) {
        guard let match = Self.allCases.first(where: { $0.jsonName == jsonName }) else { return nil }
        self = match
    }
}
