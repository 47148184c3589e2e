/// The problems found while checking something (a storyboard, a configuration): the first
/// ``maxListed`` are kept word for word, the rest only counted, so an input with 200,000 broken
/// beats costs a bounded message ("…; and 199,980 more problems"), not one line per beat.
public struct ProblemList: Sendable, Equatable {
    /// How many problems are listed at most.
    public static let maxListed = 20

    /// The problems kept, at most ``maxListed``.
    public private(set) var listed: [String] = []
    /// How many problems were found in all.
    public private(set) var count = 0

    public init() {}

    /// Counts a problem; builds its text only while fewer than ``maxListed`` are kept.
    public mutating func append(_ problem: @autoclosure () -> String) {
        count += 1
        if listed.count < Self.maxListed { listed.append(problem()) }
    }

    public mutating func append(contentsOf problems: [String]) {
        for problem in problems { append(problem) }
    }

    /// Counts `count` more problems that are not listed.
    public mutating func addUnlisted(_ count: Int) {
        self.count += count
    }

    public var isEmpty: Bool { count == 0 }

    /// How many were found but not listed.
    public var unlisted: Int { count - listed.count }

    /// The listed problems, followed by "and N more problems" when some were not listed.
    public var lines: [String] {
        unlisted > 0 ? listed + ["and \(unlisted) more problem\(unlisted == 1 ? "" : "s")"] : listed
    }

    /// An error with `code` saying how many problems `subject` has, listing at most ``maxListed``.
    public func error(_ code: EngineError.Code, subject: String) -> EngineError {
        EngineError(code, "\(subject) has \(count) problem\(count == 1 ? "" : "s")", problems: lines)
    }
}
