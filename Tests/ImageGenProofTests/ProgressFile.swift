import Crypto
import Foundation

/// `image_progress_<style>.json` as the engine writes it (see `ProgressStore.Document` and
/// `BeatRecord`), decoded independently of the engine, plus checks of the images it names.
struct ProgressFile: Decodable, Sendable {
    /// One beat's record.
    struct Record: Decodable, Sendable {
        var shot: String
        var beat: String
        var state: String
        var file: String?
        var bytes: Int?
        var sha256: String?
        var attempts: Int
        var unknownOutcomeAttempts: Int
        var lastError: String?
        var keyLabel: String?
        var lane: String?
        var batch: String?
        var billedRequests: Int?
        var estimatedCostUSD: Double?
    }

    var version: Int
    var style: String
    var beats: [Record]

    /// Reads the progress file of `style` in `project`.
    static func read(project: URL, style: String) throws -> ProgressFile {
        let data = try Data(contentsOf: project.appendingPathComponent("image_progress_\(style).json"))
        return try JSONDecoder().decode(ProgressFile.self, from: data)
    }

    /// The records of the journal next to it (one JSON object a line; a torn last line is skipped).
    static func journal(project: URL, style: String) throws -> [Record] {
        let url = project.appendingPathComponent("image_progress_\(style).journal")
        guard FileManager.default.fileExists(atPath: url.path) else { return [] }
        let data = try Data(contentsOf: url)
        return data.split(separator: 0x0A).compactMap { try? JSONDecoder().decode(Record.self, from: Data($0)) }
    }

    static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// True when `data` starts with the PNG signature and its first chunk is IHDR.
    static func isPNG(_ data: Data) -> Bool {
        data.count > 16 && Array(data.prefix(8)) == pngSignature && Array(data[data.startIndex + 12..<data.startIndex + 16]) == Array("IHDR".utf8)
    }

    static func sha256Hex(_ data: Data) -> String {
        SHA256.hash(data: data).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// What is wrong with a done record's image (missing, not a PNG, size or hash differ); nil when it is right.
    static func problem(with record: Record, project: URL) -> String? {
        guard record.state == "done" else { return "\(record.shot)/\(record.beat) is \(record.state)" }
        guard let file = record.file, let bytes = record.bytes, let sha = record.sha256 else {
            return "\(record.shot)/\(record.beat) is done without file, bytes or sha256"
        }
        guard let data = FileManager.default.contents(atPath: project.appendingPathComponent(file).path) else {
            return "\(file) is missing"
        }
        if !isPNG(data) { return "\(file) is not a PNG" }
        if data.count != bytes { return "\(file) has \(data.count) bytes, the record says \(bytes)" }
        if sha256Hex(data) != sha { return "\(file) has another sha256 than the record" }
        return nil
    }
}
