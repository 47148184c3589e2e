import Foundation
internal import Synchronization

/// A style's ``BatchLedger`` on disk: `image_batches_<style>.json` in the project, replaced
/// atomically (and fsynced, at full durability) on every change, through the project's
/// ``ProjectDirectory`` (no link is followed). Changes are made and written in order on the
/// store's own serial queue, never on the cooperative pool.
final class BatchLedgerStore: Sendable {
    let style: String
    private let directory: ProjectDirectory
    private let sync: Bool
    private let io: BlockingIO
    private let ledger: Mutex<BatchLedger>

    /// The largest ledger read: a ledger of thousands of batches is well under a megabyte.
    static let maxBytes = 64 << 20

    /// The ledger's name in the project.
    static func fileName(style: String) -> String { "image_batches_\(style).json" }

    private init(directory: ProjectDirectory, style: String, sync: Bool, ledger: BatchLedger) {
        self.directory = directory
        self.style = style
        self.sync = sync
        self.io = BlockingIO(label: "imagegen.batches.\(style)")
        self.ledger = Mutex(ledger)
    }

    /// Opens the ledger of `style` (an empty one when the file does not exist; nothing is written
    /// until something changes). A ledger that cannot be read or decoded fails with
    /// `.corruptProgress`, naming the file and leaving it as it is.
    static func open(directory: ProjectDirectory, style: String, sync: Bool) async throws(EngineError) -> BatchLedgerStore {
        let loaded = try await BlockingIO(label: "imagegen.batches.open").run { () throws(EngineError) -> BatchLedger in
            try load(directory: directory, style: style)
        }
        return BatchLedgerStore(directory: directory, style: style, sync: sync, ledger: loaded)
    }

    /// Reads the ledger of `style` as it is on disk (empty when missing). Blocking.
    static func load(directory: ProjectDirectory, style: String) throws(EngineError) -> BatchLedger {
        let name = fileName(style: style)
        let advice = "it lists the Batch API batches of style \(style) still to collect; restore it, or move it aside to forget them (their images would be asked for again)"
        let data: Data?
        do {
            data = try directory.readFile(name, limit: maxBytes, limitName: "the batch ledger limit")
        } catch {
            throw EngineError(.corruptProgress, "batch ledger \(name) cannot be read: \(error.message); \(advice)")
        }
        guard let data, !data.isEmpty else { return BatchLedger() }
        do {
            let ledger = try JSONDecoder().decode(BatchLedger.self, from: data)
            guard ledger.version <= BatchLedger.currentVersion else {
                throw EngineError(.corruptProgress, "batch ledger \(name) has version \(ledger.version), newer than this server's \(BatchLedger.currentVersion); \(advice)")
            }
            return ledger
        } catch let error as EngineError {
            throw error
        } catch {
            throw EngineError(.corruptProgress, "batch ledger \(name) does not decode (\(error)); \(advice)")
        }
    }

    /// The ledger now.
    var current: BatchLedger { ledger.withLock { $0 } }

    /// Changes the ledger with `body` and writes it durably; returns once it is on disk. If the
    /// write fails, the change is undone and the error thrown.
    @discardableResult
    func update<T: Sendable>(_ body: @escaping @Sendable (inout BatchLedger) -> T) async throws(EngineError) -> T {
        let (directory, style, sync) = (self.directory, self.style, self.sync)
        do {
            return try await io.run { [self] in
                let (before, after, result) = self.ledger.withLock { ledger in
                    let before = ledger
                    let result = body(&ledger)
                    return (before, ledger, result)
                }
                guard after != before else { return result }
                do {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
                    let data = try encoder.encode(after)
                    try directory.writeFile(Self.fileName(style: style), sync: sync) { append in try append(data) }
                } catch {
                    self.ledger.withLock { $0 = before }
                    throw error
                }
                return result
            }
        } catch let error as EngineError {
            throw error
        } catch {
            throw EngineError(.io, "cannot write batch ledger \(Self.fileName(style: style)): \(error)")
        }
    }
}
