import Foundation
import ImageGenEngine
import ImageGenWire

/// The jobs that are running, kept in `<state dir>/jobs.json` so that a restarted server resumes
/// them, each with the seqs its run has reserved. Written atomically (temp file, fsync, rename)
/// off the cooperative pool, one write at a time.
struct JobStateFile: Sendable {
    /// One running job, enough to start it again.
    struct Entry: Codable, Sendable, Equatable {
        var id: String
        var projectDir: String
        /// The StartGenerationRequest as protobuf bytes (with its storyboard inline), base64.
        var request: String
        var createdUnixMs: Int64
        /// The highest seq the job's run may issue: a resumed run starts at this + 1, beyond every
        /// seq an earlier run issued. nil in files of servers that did not reserve seqs.
        var seqReservedThrough: UInt64?
    }

    let url: URL
    /// A serial queue: writes land in the order their snapshots were taken.
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

    /// Takes `snapshot` and writes it durably, both on the file's serial queue, so that a later
    /// snapshot is never overwritten by an earlier one. Returns the entries and why the write
    /// failed, if it did.
    func save(_ snapshot: @escaping @Sendable () -> [Entry]) async -> (entries: [Entry], failure: (any Error)?) {
        let url = self.url
        return await io.run { () -> (entries: [Entry], failure: (any Error)?) in
            let entries = snapshot()
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            do {
                try DurableFiles.write(try encoder.encode(entries), to: url, sync: true)
                return (entries, nil)
            } catch {
                return (entries, error)
            }
        }
    }
}
