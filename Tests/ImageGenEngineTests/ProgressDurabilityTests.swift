import Foundation
import ImageGenEngine
import ImageGenTestSupport
import Testing

/// Progress is never silently thrown away: unreadable or undecodable progress refuses to open
/// (the files left as they were), and a journal line torn by a full disk is cut back before the
/// next append.
@Suite("Progress durability", .timeLimit(.minutes(2)), .hangWatchdog)
struct ProgressDurabilityTests {
    static func record(_ i: Int) -> BeatRecord {
        BeatRecord(
            shot: "1", beat: "1.\(i)", state: .done, file: "generated_images/x/Shot_1/Beat_1.\(i).png", bytes: 100 + i,
            sha256: String(repeating: "a", count: 64), fingerprint: String(repeating: "b", count: 64), attempts: 1,
            lastError: String(repeating: "e", count: 200), keyLabel: "x#1", updatedAt: 1)
    }

    /// How the progress is spoiled.
    enum Damage: String, CaseIterable, Sendable {
        case fileNotJSON, fileTruncated, journalMiddleLineGarbage, folderInPlaceOfFile, folderInPlaceOfJournal
    }

    @Test("unreadable or undecodable progress refuses to open and is left as it was", arguments: Damage.allCases)
    func damagedProgressIsRefused(damage: Damage) async throws {
        let dir = TempDirectory("damaged")
        let store = try await ProgressStore.open(project: dir.url, style: "x", durability: .none)
        for i in 0..<3 { try await store.save(Self.record(i)) }
        try await store.close()
        let file = ProgressStore.fileURL(project: dir.url, style: "x")
        let journal = ProgressStore.journalURL(project: dir.url, style: "x")
        switch damage {
        case .fileNotJSON:
            try Data("{not json".utf8).write(to: file)
        case .fileTruncated:
            let data = try Data(contentsOf: file)
            try data.prefix(data.count / 2).write(to: file)
        case .journalMiddleLineGarbage:
            let line = String(decoding: try JSONEncoder().encode(Self.record(7)), as: UTF8.self)
            try Data("\(line)\n{\"garbage\n\(line)\n".utf8).write(to: journal)
        case .folderInPlaceOfFile:
            try FileManager.default.removeItem(at: file)
            try FileManager.default.createDirectory(at: file, withIntermediateDirectories: false)
        case .folderInPlaceOfJournal:
            try FileManager.default.removeItem(at: journal)
            try FileManager.default.createDirectory(at: journal, withIntermediateDirectories: false)
        }
        let before = try snapshot(dir.url)
        let error = await #expect(throws: EngineError.self) { _ = try await ProgressStore.open(project: dir.url, style: "x") }
        #expect(error?.code == .corruptProgress)
        let name = [.folderInPlaceOfJournal, .journalMiddleLineGarbage].contains(damage) ? "image_progress_x.journal" : "image_progress_x.json"
        #expect(error?.message.contains(name) == true, "\(String(describing: error))")
        #expect(error?.message.contains("move it aside") == true)
        let statusError = await #expect(throws: EngineError.self) {
            _ = try await ProjectStatus.read(project: dir.url, styles: ["x"])
        }
        #expect(statusError?.code == .corruptProgress)
        #expect(try snapshot(dir.url) == before)
    }

    @Test("a torn last line (a crash mid-write) is not a record and does not refuse")
    func tornLastLineIsIgnored() async throws {
        let dir = TempDirectory("torn")
        let line = String(decoding: try JSONEncoder().encode(Self.record(1)), as: UTF8.self)
        try FileManager.default.createDirectory(at: dir.url, withIntermediateDirectories: true)
        try Data("\(line)\n\(line.prefix(40))".utf8).write(to: ProgressStore.journalURL(project: dir.url, style: "x"))
        let store = try await ProgressStore.open(project: dir.url, style: "x")
        #expect(store.records.map(\.beat) == ["1.1"])
        try await store.close()
    }

    @Test("a journal line torn by ENOSPC is cut back; the records after it are kept",
          .enabled(if: SmallFileSystem.isAvailable, "needs root to mount a tmpfs"))
    func fullDiskTearsNoLaterRecord() async throws {
        let fs = try SmallFileSystem(bytes: 64 * 1024)
        defer { fs.unmount() }
        let project = fs.url.appendingPathComponent("project")
        let store = try await ProgressStore.open(project: project, style: "x", durability: .full)
        for i in 0..<3 { try await store.save(Self.record(i)) }
        fs.fill()
        // Saves succeed while the journal's last page has room, then one fails part-way.
        var saved = 3
        var failure: EngineError?
        for i in 3..<200 {
            do {
                try await store.save(Self.record(i))
                saved += 1
            } catch {
                failure = error
                break
            }
        }
        #expect(failure?.message.contains("No space left on device") == true, "\(String(describing: failure))")
        #expect(failure?.message.contains("image_progress_x.journal") == true)
        #expect(saved > 0)
        fs.drain()
        for i in 200..<203 { try await store.save(Self.record(i)) }
        // Every journal line decodes: the torn piece is gone, nothing is glued to it.
        let journal = try Data(contentsOf: ProgressStore.journalURL(project: project, style: "x"))
        let lines = journal.split(separator: 0x0A)
        #expect(lines.count == saved + 3)
        for line in lines { _ = try JSONDecoder().decode(BeatRecord.self, from: Data(line)) }
        try await store.close()
        let reopened = try await ProgressStore.open(project: project, style: "x")
        #expect(reopened.records.count == saved + 3)
        try await reopened.close()
    }

    /// Every file under `url` with its bytes and modification time.
    func snapshot(_ url: URL) throws -> [String: String] {
        var result: [String: String] = [:]
        let enumerator = FileManager.default.enumerator(atPath: url.path)
        while let name = enumerator?.nextObject() as? String {
            let path = url.appendingPathComponent(name).path
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            let date = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            let bytes = (try? Data(contentsOf: URL(fileURLWithPath: path)))?.base64EncodedString() ?? "folder"
            result[name] = "\(date) \(bytes)"
        }
        return result
    }
}
