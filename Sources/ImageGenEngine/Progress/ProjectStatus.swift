public import Foundation

/// A project's image progress read from disk alone (the progress files), with no job running:
/// answers "is step 8 done for this project?".
///
/// ```swift
/// let status = try await ProjectStatus.read(project: dir, styles: ["illustration", "clear", "consistent"], storyboard: board)
/// if status.isComplete { … }
/// ```
public struct ProjectStatus: Sendable, Equatable {
    /// One style's counts.
    public struct Style: Sendable, Equatable {
        public var name: String
        /// Beats considered: the storyboard's, or every record when no storyboard is given.
        public var total: Int
        /// Done, with the image present at the recorded size.
        public var done: Int
        public var failed: Int
        /// Neither done nor failed (never started, in flight at a crash, or image missing).
        public var pending: Int
        /// Of `pending`, those waiting in a Batch API batch.
        public var inBatch: Int = 0
        /// What the recorded beats' billed requests are estimated to have cost, in US dollars.
        public var estimatedCostUSD: Double = 0
        public var isComplete: Bool { total > 0 && done == total }
    }

    public var styles: [Style]
    /// Every style is complete.
    public var isComplete: Bool { !styles.isEmpty && styles.allSatisfy(\.isComplete) }

    /// Reads the progress of `styles` in `project`. With a `storyboard`, counts its beats (a beat
    /// without a record is pending); without one, counts the records found. Blocking file reads run
    /// on a private queue.
    public static func read(project: URL, styles: [String], storyboard: ValidatedStoryboard? = nil) async throws(EngineError)
        -> ProjectStatus
    {
        try await read(describing: project.path) {
            try readSync(directory: try ProjectDirectory(url: project), styles: styles, storyboard: storyboard)
        }
    }

    /// Reads the progress of `styles` in the project `directory` (see ``read(project:styles:storyboard:)``).
    /// Throws `.corruptProgress` for a progress file that cannot be read, `.unsafePath` for a link
    /// or special file in place of a progress file or a recorded image.
    public static func read(directory: ProjectDirectory, styles: [String], storyboard: ValidatedStoryboard? = nil)
        async throws(EngineError) -> ProjectStatus
    {
        try await read(describing: directory.url.path) {
            try readSync(directory: directory, styles: styles, storyboard: storyboard)
        }
    }

    /// Runs `body` on a private queue; a failure other than an ``EngineError`` becomes `.io` naming `path`.
    private static func read(describing path: String, _ body: @escaping @Sendable () throws -> ProjectStatus)
        async throws(EngineError) -> ProjectStatus
    {
        do {
            return try await BlockingIO(label: "imagegen.status").run(body)
        } catch let error as EngineError {
            throw error
        } catch {
            throw EngineError(.io, "cannot read progress in \(path): \(error)")
        }
    }

    static func readSync(directory: ProjectDirectory, styles: [String], storyboard: ValidatedStoryboard?) throws -> ProjectStatus {
        var result: [Style] = []
        for style in styles {
            let records = try ProgressStore.loadRecords(directory: directory, style: style)
            var keys: [String]
            if let storyboard {
                keys = storyboard.shots.flatMap { shot in shot.beats.map { "\(shot.id)/\($0.id)" } }
            } else {
                keys = Array(records.keys)
            }
            var counts = Style(name: style, total: keys.count, done: 0, failed: 0, pending: 0)
            for key in keys {
                guard let record = records[key] else {
                    counts.pending += 1
                    continue
                }
                counts.estimatedCostUSD += record.estimatedCostUSD ?? 0
                if record.state == .pending && record.lane == .batch { counts.inBatch += 1 }
                switch record.state {
                case .done:
                    if let file = record.file, let entry = try directory.entry(file) {
                        if entry.kind != .regularFile {
                            throw ProjectDirectory.unsafe(file, is: entry.kind, expected: .regularFile)
                        }
                        if entry.size == record.bytes { counts.done += 1 } else { counts.pending += 1 }
                    } else {
                        counts.pending += 1
                    }
                case .failed: counts.failed += 1
                case .pending: counts.pending += 1
                }
            }
            keys.removeAll()
            result.append(counts)
        }
        return ProjectStatus(styles: result)
    }
}
