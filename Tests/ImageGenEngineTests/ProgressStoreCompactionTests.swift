import Foundation
@testable import ImageGenEngine
import ImageGenTestSupport
import Testing

/// Compaction writes the progress document one record at a time (``ProgressStore/encodeDocument``)
/// instead of encoding the whole document at once, which used to be the job's peak memory.
@Suite("Progress store compaction", .timeLimit(.minutes(3)), .hangWatchdog)
struct ProgressStoreCompactionTests {
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    static func beats(_ count: Int) -> [BeatRecord] {
        var beats = (0..<count).map { ProgressStoreTests.record($0) }
        beats.append(
            BeatRecord(
                shot: "s\"1\"", beat: "b/1 é", state: .failed, attempts: 3, unknownOutcomeAttempts: 1, wastedAttempts: 1,
                lastError: "line 1\nline 2 \"quoted\" \\ ✓", updatedAt: 1_764_000_000.123_456, durationSeconds: 0.1))
        return beats
    }

    @Test func streamedDocumentHasTheEncodersBytesInBoundedPieces() throws {
        let encoder = Self.encoder()
        let beats = Self.beats(5_000)
        let chunkBytes = 16 * 1024
        var pieces: [Data] = []
        try ProgressStore.encodeDocument(
            beats, style: "x \"y\"", updatedAt: 1_764_000_000.5, encoder: encoder, chunkBytes: chunkBytes
        ) { pieces.append($0) }
        let whole = try encoder.encode(
            ProgressStore.Document(version: 1, style: "x \"y\"", updatedAt: 1_764_000_000.5, beats: beats))
        #expect(pieces.reduce(into: Data()) { $0.append($1) } == whole)
        // Never more than one piece plus one record (and the document's tail) at a time.
        let largestRecord = try beats.map { try encoder.encode($0).count }.max() ?? 0
        #expect(pieces.count >= whole.count / (chunkBytes + largestRecord))
        #expect(pieces.allSatisfy { $0.count <= chunkBytes + largestRecord + 128 })
        let decoded = try JSONDecoder().decode(ProgressStore.Document.self, from: whole)
        #expect(decoded.beats == beats)
    }

    @Test func emptyDocumentHasTheEncodersBytes() throws {
        let encoder = Self.encoder()
        var pieces: [Data] = []
        try ProgressStore.encodeDocument(
            [BeatRecord](), style: "clear", updatedAt: 0, encoder: encoder, chunkBytes: 1024
        ) { pieces.append($0) }
        let whole = try encoder.encode(ProgressStore.Document(version: 1, style: "clear", updatedAt: 0, beats: []))
        #expect(pieces == [whole])
    }

    @Test func closedStoreReloadsEveryRecordFromTheStreamedFile() async throws {
        let dir = TempDirectory("streamed")
        let store = try await ProgressStore.open(project: dir.url, style: "x", durability: .none)
        let beats = Self.beats(3_000)
        for beat in beats { try await store.save(beat) }
        try await store.close()
        #expect(try Data(contentsOf: store.journalURL).isEmpty)
        let reopened = try await ProgressStore.open(project: dir.url, style: "x", durability: .none)
        #expect(reopened.records == beats)
        try await reopened.close()
    }
}
