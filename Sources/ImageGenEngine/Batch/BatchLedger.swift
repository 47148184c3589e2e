import Foundation

/// The batches a style has sent to Gemini's Batch API and not yet collected, as
/// `image_batches_<style>.json` in the project holds them. An entry is written (fsynced) before
/// its batch is created and names the batch once Gemini answered, so a crash, a restart or a
/// lost answer never leaves a batch nobody looks for, and a batch is never created twice.
struct BatchLedger: Codable, Sendable, Equatable {
    /// One batch: what it holds, where, and until when it may run.
    struct Entry: Codable, Sendable, Equatable {
        /// "imagegen <ledger> <style> w<wave> #<sequence>": unique, and found again by listing.
        var displayName: String
        /// "batches/…" once the create call answered; nil while only the intent is recorded.
        var name: String?
        var wave: Int
        /// The Google Cloud project of the key it was created with.
        var project: String
        /// The label of that key (never the key).
        var keyLabel: String
        var model: String
        /// The beats it holds, as "shot/beat", in the order of its requests.
        var beats: [String]
        /// Seconds since 1970 when it was recorded.
        var createdAt: Double
        /// Seconds since 1970 after which it is cancelled and what it did not process goes online.
        var deadline: Double
    }

    static let currentVersion = 1

    var version = BatchLedger.currentVersion
    /// A random id of this ledger, part of every display name it gives.
    var id: String
    /// The number of the last batch recorded.
    var sequence = 0
    var entries: [Entry] = []

    init(id: String = UUID().uuidString.lowercased()) {
        self.id = id
    }

    /// The next display name for a batch of `style` in `wave`, counting it.
    mutating func nextDisplayName(style: String, wave: Int) -> String {
        sequence += 1
        return "imagegen \(id.prefix(12)) \(style) w\(wave) #\(sequence)"
    }

    /// The entry called `displayName`.
    func entry(_ displayName: String) -> Entry? {
        entries.first { $0.displayName == displayName }
    }
}
