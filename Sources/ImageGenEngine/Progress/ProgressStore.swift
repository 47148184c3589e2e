public import Foundation
internal import Collections
internal import Synchronization

/// The durable progress of one style in one project.
///
/// `image_progress_<style>.json` holds every beat's ``BeatRecord``; each save appends one fsynced
/// JSON line to `image_progress_<style>.journal` (O(1) per save). The journal is folded into the
/// JSON file (temp + fsync + rename + directory fsync) when the store opens, when it closes, and
/// when it grows past `max(compactionLines, record count)` lines, so saving stays O(1) amortised.
/// A torn last journal line (a crash mid-write) is ignored on load. All file work runs on the
/// store's own serial `DispatchQueue`.
public final class ProgressStore: Sendable {
    /// The style this store belongs to.
    public let style: String
    /// The JSON progress file.
    public let fileURL: URL
    /// The append-only journal next to it.
    public let journalURL: URL
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
        project.appendingPathComponent("image_progress_\(style).json")
    }

    /// `image_progress_<style>.journal` in `project`.
    public static func journalURL(project: URL, style: String) -> URL {
        project.appendingPathComponent("image_progress_\(style).journal")
    }

    private init(project: URL, style: String, sync: Bool, compactionLines: Int) {
        self.style = style
        self.fileURL = Self.fileURL(project: project, style: style)
        self.journalURL = Self.journalURL(project: project, style: style)
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
        let store = ProgressStore(
            project: project, style: style, sync: durability == .full, compactionLines: compactionLines)
        do {
            try await store.io.run { try store.openSync(project: project) }
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

    private func openSync(project: URL) throws {
        try FileManager.default.createDirectory(at: project, withIntermediateDirectories: true)
        let loaded = try Self.loadRecords(fileURL: fileURL, journalURL: journalURL, style: style)
        recordsLock.withLock { $0 = loaded }
        try state.withLock { state in try compactSync(&state) }
    }

    private func saveSync(_ record: BeatRecord) throws {
        try state.withLock { state in
            guard !state.closed else { throw EngineError(.io, "progress of style \(style) is closed") }
            let count = recordsLock.withLock { records in
                records[record.key] = record
                return records.count
            }
            if state.journalFD < 0 { try openJournal(&state) }
            var line = try state.encoder.encode(record)
            line.append(0x0A)
            try line.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let written = write(state.journalFD, buffer.baseAddress! + offset, buffer.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        throw DurableFiles.posixError("append to \(journalURL.path)")
                    }
                    offset += written
                }
            }
            if sync, fsync(state.journalFD) != 0 { throw DurableFiles.posixError("fsync \(journalURL.path)") }
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
        let fd = Foundation.open(journalURL.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw DurableFiles.posixError("open \(journalURL.path)") }
        state.journalFD = fd
    }

    /// Writes the JSON file from memory, then empties the journal.
    private func compactSync(_ state: inout State) throws {
        // A copy-on-write snapshot, O(1): saves run on this queue too, so none mutates the records
        // while it is alive and no copy is ever made.
        let records = recordsLock.withLock { $0 }
        try Self.writeDocument(
            records.values, style: style, updatedAt: Date().timeIntervalSince1970, encoder: state.encoder, to: fileURL,
            sync: sync)
        // The JSON file now holds everything: a crash from here on replays an already-applied journal.
        if state.journalFD < 0 { try openJournal(&state) }
        if ftruncate(state.journalFD, 0) != 0 { throw DurableFiles.posixError("truncate \(journalURL.path)") }
        if sync, fsync(state.journalFD) != 0 { throw DurableFiles.posixError("fsync \(journalURL.path)") }
        state.journalLines = 0
    }

    /// Text pieces of a compaction are written once they reach this size.
    static let documentChunkBytes = 64 * 1024

    /// Writes `beats` as a ``Document`` to `url`, atomically, a piece at a time (see
    /// ``encodeDocument(_:style:updatedAt:encoder:chunkBytes:append:)``).
    static func writeDocument<Beats: Sequence<BeatRecord>>(
        _ beats: Beats, style: String, updatedAt: Double, encoder: JSONEncoder, to url: URL, sync: Bool
    ) throws {
        try DurableFiles.write(to: url, sync: sync) { append in
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

    /// Reads the JSON file and replays the journal over it. Undecodable journal lines (a torn last
    /// line after a crash) are skipped. Synchronous: call it off the cooperative pool.
    static func loadRecords(fileURL: URL, journalURL: URL, style: String) throws -> OrderedDictionary<String, BeatRecord> {
        var records: OrderedDictionary<String, BeatRecord> = [:]
        let decoder = JSONDecoder()
        if let data = try? Data(contentsOf: fileURL), !data.isEmpty {
            do {
                let document = try decoder.decode(Document.self, from: data)
                for record in document.beats { records[record.key] = record }
            } catch {
                throw EngineError(
                    .corruptProgress,
                    "progress file \(fileURL.path) cannot be read (\(error)); move it aside to start style \(style) afresh")
            }
        }
        if let journal = try? Data(contentsOf: journalURL), !journal.isEmpty {
            for line in journal.split(separator: 0x0A, omittingEmptySubsequences: true) {
                if let record = try? decoder.decode(BeatRecord.self, from: Data(line)) { records[record.key] = record }
            }
        }
        return records
    }
}
