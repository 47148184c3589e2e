/// Every error the engine throws: a machine-readable ``Code`` to switch on, a message for people,
/// and, when several things are wrong at once (a storyboard, a configuration), the list of them all.
///
/// ```swift
/// do { let board = try ValidatedStoryboard.parse(json: data) }
/// catch { print(error.message); error.problems.forEach { print(" - \($0)") } }
/// ```
public struct EngineError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure this is. Extensible: compare with the static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The storyboard is not valid JSON or breaks a rule (ids, prompts, transitions).
        public static let invalidStoryboard = Code("invalidStoryboard")
        /// The configuration file or an environment variable is invalid.
        public static let invalidConfiguration = Code("invalidConfiguration")
        /// A job option names something unknown (a style) or is out of range.
        public static let invalidOptions = Code("invalidOptions")
        /// Reading or writing the project directory failed.
        public static let io = Code("io")
        /// A progress file or journal exists but cannot be read or decoded; it is left as it was.
        public static let corruptProgress = Code("corruptProgress")
        /// Something in the project is not what the engine expects there: a symbolic link, FIFO,
        /// device or directory where a regular file (or a directory) must be. Nothing is followed.
        public static let unsafePath = Code("unsafePath")
        /// A file read from the project is larger than its configured cap.
        public static let inputTooLarge = Code("inputTooLarge")
        /// Another job (in this or another process) holds the project's lock.
        public static let projectLocked = Code("projectLocked")
    }

    public var code: Code
    /// A one-line summary, e.g. "storyboard has 2 problems".
    public var message: String
    /// Every individual problem, each naming what it is about (e.g. "shot 3, beat 3.2: prompt is empty").
    public var problems: [String]

    public init(_ code: Code, _ message: String, problems: [String] = []) {
        self.code = code
        self.message = message
        self.problems = problems
    }

    public var description: String {
        problems.isEmpty ? message : message + ": " + problems.joined(separator: "; ")
    }
}
