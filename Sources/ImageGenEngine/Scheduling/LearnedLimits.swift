public import Foundation
internal import Synchronization

/// The per-minute limits Gemini's 429s stated, per quota (``QuotaID``), kept in a JSON file in the
/// server's state directory so that a restarted server paces at them at once instead of
/// relearning them with 429s. A limit older than ``freshness`` is only where a slow start
/// begins (a project's tier may have changed). Also kept: the engine's pushback (``PacePushback``),
/// how much wider than the stated limits this host must space requests. Holds no key: projects
/// and models only.
///
/// ```json
/// {"version": 1, "pushbackPercent": 1, "limits": [{"project": "film-a", "model": "gemini-3.1-flash-image",
///   "requestsPerMinute": 120, "learnedAt": "2026-12-02T05:00:00Z"}]}
/// ```
public final class LearnedLimits: Sendable {
    /// One learned limit.
    public struct Entry: Sendable, Equatable {
        public var requestsPerMinute: Double
        public var learnedAt: Date
    }

    private struct State {
        var entries: [QuotaID: Entry] = [:]
        var pushbackPercent = 0.0
        /// Bumped on every change; the file holds `written`.
        var version = 0
        var written = 0
    }

    /// How long a learned limit is trusted as the limit.
    public static let freshness: TimeInterval = 7 * 86_400
    /// The file's name in the state directory.
    public static let fileName = "learned-limits.json"

    /// The file, nil to keep the limits in memory only.
    public let file: URL?
    private let state: Mutex<State>
    /// Serialises writers: a later snapshot is never overwritten by an earlier one.
    private let writer = Mutex(())

    /// Limits kept in memory only.
    public convenience init() {
        self.init(file: nil, entries: [:])
    }

    /// No limits yet, kept in `file` from the first one learned (for a file that could not be read).
    public convenience init(replacing file: URL) {
        self.init(file: file, entries: [:])
    }

    init(file: URL?, entries: [QuotaID: Entry], pushbackPercent: Double = 0) {
        self.file = file
        self.state = Mutex(State(entries: entries, pushbackPercent: pushbackPercent))
    }

    /// Reads `file` (a missing file holds no limits). Blocking. Throws ``EngineError`` naming the
    /// file and what is wrong with it; the caller may go on without it (``init()``).
    public static func load(file: URL) throws(EngineError) -> LearnedLimits {
        let data: Data
        do {
            data = try Data(contentsOf: file)
        } catch let error as CocoaError where error.code == .fileReadNoSuchFile {
            return LearnedLimits(file: file, entries: [:])
        } catch {
            throw EngineError(.invalidConfiguration, "learned limits \(file.path): cannot be read: \(error.localizedDescription)")
        }
        let (entries, pushback) = try LearnedLimitsFile.decode(data, path: file.path)
        return LearnedLimits(file: file, entries: entries, pushbackPercent: pushback)
    }

    /// The limit learned for `quota`, and whether it is still fresh at `now`.
    func limit(for quota: QuotaID, now: Date) -> (perMinute: Double, fresh: Bool)? {
        state.withLock { state in
            state.entries[quota].map { ($0.requestsPerMinute, now.timeIntervalSince($0.learnedAt) < Self.freshness) }
        }
    }

    /// Every limit held, by quota.
    public var entries: [QuotaID: Entry] { state.withLock { $0.entries } }

    /// The pushback learned, in percent.
    public var pushbackPercent: Double { state.withLock { $0.pushbackPercent } }

    /// Records the engine's pushback; returns whether it changed.
    func recordPushback(_ percent: Double) -> Bool {
        state.withLock { state in
            guard state.pushbackPercent != percent else { return false }
            state.pushbackPercent = percent
            state.version += 1
            return true
        }
    }

    /// Records that Gemini stated `perMinute` for `quota`; returns whether that changed anything
    /// (the same limit learned again within a day is not news).
    func record(_ quota: QuotaID, perMinute: Double, now: Date) -> Bool {
        state.withLock { state in
            if let old = state.entries[quota], old.requestsPerMinute == perMinute, now.timeIntervalSince(old.learnedAt) < 86_400 {
                return false
            }
            state.entries[quota] = Entry(requestsPerMinute: perMinute, learnedAt: now)
            state.version += 1
            return true
        }
    }

    /// Writes the limits to the file (atomically, synced) unless it holds them already. Blocking:
    /// call it through ``BlockingIO``.
    func persist() throws {
        guard let file else { return }
        try writer.withLock { _ in
            let (entries, pushback, version) = state.withLock { state -> ([QuotaID: Entry], Double, Int?) in
                state.version > state.written ? (state.entries, state.pushbackPercent, state.version) : ([:], 0, nil)
            }
            guard let version else { return }
            try DurableFiles.write(LearnedLimitsFile.encode(entries, pushbackPercent: pushback), to: file, sync: true)
            state.withLock { $0.written = max($0.written, version) }
        }
    }
}
