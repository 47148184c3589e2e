import Foundation

/// A video storyboard: shots in order, each with beats in order. Shot and beat ids end up in file
/// names, so they are checked before any work starts.
///
/// ```swift
/// let board = try ValidatedStoryboard.parse(json: Data(#"{"shots":[{"id":"1","beats":[{"id":"1.1","prompt":"A fox"}]}]}"#.utf8))
/// ```
public struct ValidatedStoryboard: Sendable, Equatable {
    /// How a beat follows the previous one.
    public enum Transition: String, Sendable, Equatable, CaseIterable {
        /// An ordinary cut (the default).
        case cut
        /// A hard cut: a new scene; the style reference is attached.
        case hardCut = "hard_cut"
        /// The beat continues the previous one; with continuity on, the previous image is attached.
        case `continue`
    }

    /// One beat: a single image.
    public struct Beat: Sendable, Equatable {
        public var id: String
        public var prompt: String
        public var transition: Transition

        public init(id: String, prompt: String, transition: Transition = .cut) {
            self.id = id
            self.prompt = prompt
            self.transition = transition
        }
    }

    /// One shot: beats in order.
    public struct Shot: Sendable, Equatable {
        public var id: String
        public var beats: [Beat]

        public init(id: String, beats: [Beat]) {
            self.id = id
            self.beats = beats
        }
    }

    public var shots: [Shot]

    /// Builds a storyboard after checking it against its rules and `limits`; throws ``EngineError``
    /// listing the first ``ProblemList/maxListed`` problems and how many more there are.
    public init(shots: [Shot], limits: StoryboardLimits = .unlimited) throws(EngineError) {
        self.shots = shots
        let problems = Self.problems(in: shots, limits: limits)
        if !problems.isEmpty { throw problems.error(.invalidStoryboard, subject: "storyboard") }
    }

    /// The number of beats in all shots.
    public var beatCount: Int { shots.reduce(0) { $0 + $1.beats.count } }

    /// Whether `id` is usable in a file name: `[A-Za-z0-9._-]{1,64}`, and not `.` or `..`.
    public static func isValidID(_ id: String) -> Bool {
        guard !id.isEmpty, id.utf8.count <= 64, id != ".", id != ".." else { return false }
        return id.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2E || byte == 0x5F || byte == 0x2D
        }
    }

    static func problems(in shots: [Shot], limits: StoryboardLimits = .unlimited) -> ProblemList {
        var problems = ProblemList()
        if shots.isEmpty { problems.append("storyboard has no shots") }
        let beatCount = shots.reduce(0) { $0 + $1.beats.count }
        if beatCount > limits.maxBeats {
            problems.append("storyboard has \(beatCount) beats (at most \(limits.maxBeats) are allowed)")
        }
        var shotIDs: Set<String> = []
        for (shotIndex, shot) in shots.enumerated() {
            let shotName = Self.name(shot.id, index: shotIndex)
            if !isValidID(shot.id) {
                problems.append("shot \(shotName): id \(Self.quoted(shot.id)) \(Self.idRule)")
            } else if !shotIDs.insert(shot.id).inserted {
                problems.append("shot \(shotName): duplicate shot id")
            }
            if shot.beats.isEmpty { problems.append("shot \(shotName): has no beats") }
            var beatIDs: Set<String> = []
            for (beatIndex, beat) in shot.beats.enumerated() {
                let place = { "shot \(shotName), beat \(Self.name(beat.id, index: beatIndex))" }
                if !isValidID(beat.id) {
                    problems.append("\(place()): id \(Self.quoted(beat.id)) \(Self.idRule)")
                } else if !beatIDs.insert(beat.id).inserted {
                    problems.append("\(place()): duplicate beat id in this shot")
                }
                let promptBytes = beat.prompt.utf8.count
                if promptBytes > limits.maxPromptBytes {
                    problems.append("\(place()): prompt is \(promptBytes) bytes (at most \(limits.maxPromptBytes) are allowed)")
                } else if beat.prompt.allSatisfy(\.isWhitespace) {
                    problems.append("\(place()): prompt is empty")
                }
            }
        }
        return problems
    }

    static let idRule = "is not allowed: use 1-64 characters from A-Z a-z 0-9 . _ - (not \".\" or \"..\")"

    private static func name(_ id: String, index: Int) -> String {
        isValidID(id) ? id : "#\(index + 1)"
    }

    static func quoted(_ text: String) -> String {
        let shown = text.count > 70 ? String(text.prefix(67)) + "..." : text
        return "\"" + shown.replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
