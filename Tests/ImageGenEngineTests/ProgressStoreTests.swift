import Foundation
import ImageGenEngine
import ImageGenTestSupport
import Testing

@Suite("Progress store", .timeLimit(.minutes(2)), .hangWatchdog)
struct ProgressStoreTests {
    static func record(_ i: Int, state: BeatRecord.State = .done) -> BeatRecord {
        BeatRecord(
            shot: "\(i / 100)", beat: "\(i)", state: state, file: "generated_images/x/Shot_\(i / 100)/Beat_\(i).png",
            bytes: 1000 + i, sha256: String(repeating: "a", count: 64), fingerprint: String(repeating: "b", count: 64),
            attempts: 1, keyLabel: "x#1…abcd", usage: TokenUsage(promptTokens: 1, outputTokens: 2, totalTokens: 3),
            updatedAt: 1)
    }

    @Test func savesReloadsAndCompacts() async throws {
        let dir = TempDirectory("store")
        let store = try await ProgressStore.open(project: dir.url, style: "x", compactionLines: 5)
        for i in 0..<12 { try await store.save(Self.record(i)) }
        try await store.save(Self.record(3, state: .failed))
        // Journal lines beyond max(5, records) trigger compaction: never more than 13 lines.
        let journalLines = try String(contentsOf: store.journalURL, encoding: .utf8).split(separator: "\n").count
        #expect(journalLines <= 12)
        // Reopen without closing (like after a crash): everything is there.
        let reopened = try await ProgressStore.open(project: dir.url, style: "x")
        #expect(reopened.records.count == 12)
        #expect(reopened.record(shot: "0", beat: "3")?.state == .failed)
        try await reopened.close()
        #expect(try Data(contentsOf: reopened.journalURL).isEmpty)
    }

    @Test func unreadableProgressFileIsReported() async throws {
        let dir = TempDirectory("corrupt")
        try Data("{not json".utf8).write(to: ProgressStore.fileURL(project: dir.url, style: "x"))
        let error = await #expect(throws: EngineError.self) { try await ProgressStore.open(project: dir.url, style: "x") }
        #expect(error?.code == .corruptProgress)
        #expect(error?.message.contains("move it aside") == true)
    }
}
