import Foundation
import ImageGenEngine
import ImageGenWire

/// The jobs that are running, kept in `<state dir>/jobs.json` so that a restarted server resumes
/// them. Written atomically (temp file, fsync, rename) off the cooperative pool.
struct JobStateFile: Sendable {
    /// One running job, enough to start it again.
    struct Entry: Codable, Sendable, Equatable {
        var id: String
        var projectDir: String
        /// The StartGenerationRequest as protobuf bytes (with its storyboard inline), base64.
        var request: String
        var createdUnixMs: Int64
    }

    let url: URL
    private let io = BlockingIO(label: "imagegen.service.state")

    init(directory: URL) {
        url = directory.appendingPathComponent("jobs.json")
    }

    func load() async throws -> [Entry] {
        let url = self.url
        return try await io.run {
            guard FileManager.default.fileExists(atPath: url.path) else { return [] }
            let data = try Data(contentsOf: url)
            return try JSONDecoder().decode([Entry].self, from: data)
        }
    }

    func save(_ entries: [Entry]) async throws {
        let url = self.url
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(entries)
        try await io.run { try DurableFiles.write(data, to: url, sync: true) }
    }
}
