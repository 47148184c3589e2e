public import Foundation
internal import Collections
internal import Synchronization

/// The durable progress of one style in one project.
///
/// `image_progress_<style>.json` holds every beat's ``BeatRecord``; each save appends one fsynced
/// JSON line to `image_progress_<style>.journal` (O(1) per save). The journal is folded into the
/// JSON file (temp + fsync + rename + directory fsync) when the store opens, when it closes, and
/// when it grows past `max(compactionLines, record count)` lines, so saving stays O(1) amortised.
/// A torn last journal line (a crash mid-write: no newline at its end) is ignored on load, and a
/// line torn by a failed write (ENOSPC, EIO) is cut back before the next append, so no later
/// record is lost with it. A progress file or journal that cannot be read or does not decode is
/// never taken for "no progress": opening fails with `.corruptProgress` and the files are left as
/// they were. Every file is reached through the project's ``ProjectDirectory`` (no link is
/// followed). All file work runs on the store's own serial `DispatchQueue`.
public final class ProgressStore: Sendable {
    /// The style this store belongs to.
    public let style: String
    /// The JSON progress file.
    public let fileURL: URL
    /// The append-only journal next to it.
    public let journalURL: URL
    private let directory: ProjectDirectory
    private let sync: Bool
    private let compactionLines: Int
    private let io: BlockingIO
    /// The records, read by anyone; held only briefly (never during I/O).
    private let recordsLock = Mutex<OrderedDictionary<String, BeatRecord>>([:])
    /// The journal's state, used only on the I/O queue (so its lock is never contended).
    private let state: Mutex<State>

    struct State: ~Copyable {
        var journalFD: Int32 = -1
        var journalLines = 0
        /// The journal's length up to its last whole line.
        var journalLength: Int64 = 0
        /// A failed append may have left part of a line after `journalLength`: cut it before the next.
        var journalTorn = false
        var closed = false
        let encoder: JSONEncoder = {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return encoder
        }()
    }

    /// The on-disk JSON document.
    struct Document: Codable {
        /// The version written.
        static let currentVersion = 1

        var version: Int
        var style: String
        var updatedAt: Double
        var beats: [BeatRecord]
    }

    /// `image_progress_<style>.json` in `project`.
    public static func fileURL(project: URL, style: String) -> URL {
        project.appendingPathComponent(fileName(style: style))
    }

    /// `image_progress_<style>.journal` in `project`.
    public static func journalURL(project: URL, style: String) -> URL {
        project.appendingPathComponent(journalName(style: style))
    }

    /// The progress file's name in the project.
    public static func fileName(style: String) -> String { "image_progress_\(style).json" }
    /// The journal's name in the project.
    public static func journalName(style: String) -> String { "image_progress_\(style).journal" }

    private var fileName: String { Self.fileName(style: style) }
    private var journalName: String { Self.journalName(style: style) }

    private init(directory: ProjectDirectory, style: String, sync: Bool, compactionLines: Int) {
        self.style = style
        self.directory = directory
        self.fileURL = Self.fileURL(project: directory.url, style: style)
        self.journalURL = Self.journalURL(project: directory.url, style: style)
        self.sync = sync
        self.compactionLines = max(1, compactionLines)
        self.io = BlockingIO(label: "imagegen.progress.\(style)")
        self.state = Mutex(State())
    }

    /// Opens (or creates) the progress of `style` in `project`: loads the JSON file and the journal,
    /// then compacts them into a fresh JSON file and an empty journal.
    public static func open(
        project: URL, style: String, durability: EngineConfiguration.Durability = .full, compactionLines: Int = 1000
    ) async throws(EngineError) -> ProgressStore {
        let directory: ProjectDirectory
        do {
            directory = try await BlockingIO(label: "imagegen.progress.open").run {
                try ProjectDirectory(url: project, create: true)
            }
        } catch let error as EngineError {
            throw error
        } catch {
            throw EngineError(.io, "cannot open project \(project.path): \(error)")
        }
        return try await open(directory: directory, style: style, durability: durability, compactionLines: compactionLines)
    }

    /// Opens (or creates) the progress of `style` in the project `directory`.
    public static func open(
        directory: ProjectDirectory, style: String, durability: EngineConfiguration.Durability = .full,
        compactionLines: Int = 1000
    ) async throws(EngineError) -> ProgressStore {
        let store = ProgressStore(
            directory: directory, style: style, sync: durability == .full, compactionLines: compactionLines)
        do {
            try await store.io.run { try store.openSync() }
        } catch let error as EngineError {
            throw error
        } catch {
            throw EngineError(.io, "cannot open progress of style \(style): \(error)")
        }
        return store
    }

    /// Every record, in the order beats were first saved.
    public var records: [BeatRecord] {
        recordsLock.withLock { Array($0.values) }
    }

    /// The record of beat `beat` in shot `shot`.
    public func record(shot: String, beat: String) -> BeatRecord? {
        recordsLock.withLock { $0["\(shot)/\(beat)"] }
    }

    /// Saves one record durably (one journal line, fsynced); returns once it is on disk.
    public func save(_ record: BeatRecord) async throws(EngineError) {
        do {
            try await io.run { try self.saveSync(record) }
        } catch let error as EngineError {
            throw error
        } catch {
            throw EngineError(.io, "cannot save progress of style \(style): \(error)")
        }
    }

    /// Folds the journal into the JSON file and closes the journal. The store can't be used after.
    public func close() async throws(EngineError) {
        do {
            try await io.run { try self.closeSync() }
        } catch let error as EngineError {
            throw error
        } catch {
            throw EngineError(.io, "cannot close progress of style \(style): \(error)")
        }
    }

    // MARK: - On the I/O queue

    private func openSync() throws {
        let loaded = try Self.loadRecords(directory: directory, style: style)
        recordsLock.withLock { $0 = loaded }
        try state.withLock { state in try compactSync(&state) }
    }

    private func saveSync(_ record: BeatRecord) throws {
        try state.withLock { state in
            guard !state.closed else { throw EngineError(.io, "progress of style \(style) is closed") }
            if state.journalFD < 0 { try openJournal(&state) }
            var line = try state.encoder.encode(record)
            line.append(0x0A)
            try cutTornLine(&state)
            do {
                try ProjectDirectory.writeAll(state.journalFD, line, path: journalName)
                if sync, fsync(state.journalFD) != 0 { throw ProjectDirectory.systemError("fsync \(journalName)") }
            } catch {
                // Part of the line may be on disk: cut it now, or before the next append.
                state.journalTorn = true
                try? cutTornLine(&state)
                throw error
            }
            state.journalLength += Int64(line.count)
            let count = recordsLock.withLock { records in
                records[record.key] = record
                return records.count
            }
            state.journalLines += 1
            if state.journalLines > max(compactionLines, count) { try compactSync(&state) }
        }
    }

    private func closeSync() throws {
        try state.withLock { state in
            guard !state.closed else { return }
            try compactSync(&state)
            if state.journalFD >= 0 { Foundation.close(state.journalFD) }
            state.journalFD = -1
            state.closed = true
        }
    }

    private func openJournal(_ state: inout State) throws {
        let fd = try directory.openForAppend(journalName, sync: sync)
        let end = lseek(fd, 0, SEEK_END)
        guard end >= 0 else {
            let error = ProjectDirectory.systemError("seek \(journalName)")
            Foundation.close(fd)
            throw error
        }
        state.journalFD = fd
        state.journalLength = Int64(end)
        state.journalTorn = false
    }

    /// Cuts the journal back to its last whole line after a failed append.
    private func cutTornLine(_ state: inout State) throws {
        guard state.journalTorn else { return }
        if ftruncate(state.journalFD, off_t(state.journalLength)) != 0 {
            throw ProjectDirectory.systemError("cut the torn last line of \(journalName)")
        }
        state.journalTorn = false
    }

    /// Writes the JSON file from memory, then empties the journal.
    private func compactSync(_ state: inout State) throws {
        // A copy-on-write snapshot, O(1): saves run on this queue too, so none mutates the records
        // while it is alive and no copy is ever made.
        let records = recordsLock.withLock { $0 }
        try Self.writeDocument(
            records.values, style: style, updatedAt: Date().timeIntervalSince1970, encoder: state.encoder,
            to: fileName, in: directory, sync: sync)
        // The JSON file now holds everything: a crash from here on replays an already-applied journal.
        if state.journalFD < 0 { try openJournal(&state) }
        if ftruncate(state.journalFD, 0) != 0 { throw ProjectDirectory.systemError("truncate \(journalName)") }
        if sync, fsync(state.journalFD) != 0 { throw ProjectDirectory.systemError("fsync \(journalName)") }
        state.journalLines = 0
        state.journalLength = 0
        state.journalTorn = false
    }

    /// Text pieces of a compaction are written once they reach this size.
    static let documentChunkBytes = 64 * 1024

    /// Writes `beats` as a ``Document`` to `url`, atomically, a piece at a time (see
    /// ``encodeDocument(_:style:updatedAt:encoder:chunkBytes:append:)``).
    static func writeDocument<Beats: Sequence<BeatRecord>>(
        _ beats: Beats, style: String, updatedAt: Double, encoder: JSONEncoder, to name: String,
        in directory: ProjectDirectory, sync: Bool
    ) throws {
        try directory.writeFile(name, sync: sync) { append in
            try encodeDocument(
                beats, style: style, updatedAt: updatedAt, encoder: encoder, chunkBytes: documentChunkBytes,
                append: append)
        }
    }

    /// Encodes `beats` as a ``Document`` one record at a time, passing the text to `append` in
    /// pieces of about `chunkBytes`: the same bytes as encoding the whole ``Document`` with `encoder`
    /// (sorted keys), without ever holding the whole document. `JSONEncoder` builds a tree of every
    /// value before it writes any text, about 3 KiB per record, which made compaction the job's
    /// peak memory (3 styles closing at once at 30,000 beats: ~250 MiB); here only one record's tree
    /// and one piece of text exist at a time.
    static func encodeDocument<Beats: Sequence<BeatRecord>>(
        _ beats: Beats, style: String, updatedAt: Double, encoder: JSONEncoder, chunkBytes: Int,
        append: (Data) throws -> Void
    ) throws {
        // Keys in the order `.sortedKeys` writes them: beats, style, updatedAt, version.
        var chunk = Data(#"{"beats":["#.utf8)
        chunk.reserveCapacity(chunkBytes + 4096)
        var first = true
        for beat in beats {
            if !first { chunk.append(UInt8(ascii: ",")) }
            first = false
            chunk.append(try encoder.encode(beat))
            if chunk.count >= chunkBytes {
                try append(chunk)
                chunk.removeAll(keepingCapacity: true)
            }
        }
        chunk.append(contentsOf: #"],"style":"#.utf8)
        chunk.append(try encoder.encode(style))
        chunk.append(contentsOf: #","updatedAt":"#.utf8)
        chunk.append(try encoder.encode(updatedAt))
        chunk.append(contentsOf: #","version":\#(Document.currentVersion)}"#.utf8)
        try append(chunk)
    }

    /// The largest progress file or journal read (a progress file of 100,000 beats is about 80 MiB).
    static let maxProgressBytes = 1 << 30

    /// Reads the JSON file and replays the journal over it. Only a torn last journal line (no
    /// newline after it: a crash mid-write) is skipped; a file that cannot be read (EIO, EACCES, a
    /// folder or a link in its place) or a line that does not decode fails with `.corruptProgress`
    /// (DATA_LOSS), naming the file and leaving it as it is. Synchronous: call it off the cooperative pool.
    static func loadRecords(directory: ProjectDirectory, style: String) throws(EngineError)
        -> OrderedDictionary<String, BeatRecord>
    {
        var records: OrderedDictionary<String, BeatRecord> = [:]
        let decoder = JSONDecoder()
        let file = fileName(style: style)
        let journal = journalName(style: style)
        let advice = "move it aside to start style \(style) afresh, or restore it from a backup"
        if let data = try readProgress(file, in: directory, advice: advice), !data.isEmpty {
            do {
                let document = try decoder.decode(Document.self, from: data)
                for record in document.beats { records[record.key] = record }
            } catch {
                throw EngineError(
                    .corruptProgress, "progress file \(file) does not decode (\(error)); \(advice); it was left as it is")
            }
        }
        if let data = try readProgress(journal, in: directory, advice: advice), !data.isEmpty {
            let lines = data.split(separator: 0x0A, omittingEmptySubsequences: false)
            for (index, line) in lines.enumerated() where !line.isEmpty {
                do {
                    let record = try decoder.decode(BeatRecord.self, from: Data(line))
                    records[record.key] = record
                } catch {
                    // The last line without a newline is a write a crash tore: it never counted.
                    if index == lines.count - 1 { break }
                    throw EngineError(
                        .corruptProgress,
                        "progress journal \(journal) line \(index + 1) does not decode (\(error)); \(advice); it was left as it is")
                }
            }
        }
        return records
    }

    /// A progress file's bytes, nil when it does not exist; any failure to read it is `.corruptProgress`.
    private static func readProgress(_ name: String, in directory: ProjectDirectory, advice: String) throws(EngineError)
        -> Data?
    {
        do {
            return try directory.readFile(name, limit: maxProgressBytes, limitName: "the progress file limit")
        } catch {
            // A link, FIFO or device in its place is refused as unsafe (FAILED_PRECONDITION); a
            // folder in its place (EISDIR) or a failed read is progress that cannot be read.
            if error.code == .unsafePath, (try? directory.entry(name))??.kind != .directory { throw error }
            throw EngineError(
                .corruptProgress, "progress file \(name) cannot be read: \(error.message); \(advice); it was left as it is")
        }
    }
}
