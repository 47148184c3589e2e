import Foundation

/// The JSON form of ``LearnedLimits``: version 1, one entry per quota, sorted. Decoding checks
/// every field and names the entry that is wrong.
enum LearnedLimitsFile {
    static let version = 1
    /// Larger than any real file (a few hundred quotas); a bigger one is not ours.
    static let maxBytes = 1 << 20

    private struct Document: Codable {
        var version: Int
        var pushbackPercent: Double?
        var limits: [Limit]
    }

    private struct Limit: Codable {
        var project: String
        var model: String
        var requestsPerMinute: Double
        var learnedAt: Date
    }

    static func encode(_ entries: [QuotaID: LearnedLimits.Entry], pushbackPercent: Double) throws -> Data {
        let limits = entries.map { quota, entry in
            Limit(project: quota.project, model: quota.model, requestsPerMinute: entry.requestsPerMinute, learnedAt: entry.learnedAt)
        }.sorted { ($0.project, $0.model) < ($1.project, $1.model) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return try encoder.encode(Document(version: version, pushbackPercent: pushbackPercent, limits: limits)) + Data("\n".utf8)
    }

    static func decode(_ data: Data, path: String) throws(EngineError) -> (entries: [QuotaID: LearnedLimits.Entry], pushbackPercent: Double) {
        func bad(_ what: String) -> EngineError { EngineError(.invalidConfiguration, "learned limits \(path): \(what)") }
        guard data.count <= maxBytes else { throw bad("\(data.count) bytes, more than \(maxBytes): not a learned-limits file") }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let document: Document
        do {
            document = try decoder.decode(Document.self, from: data)
        } catch {
            throw bad("not a learned-limits document (\(Self.describe(error)))")
        }
        guard document.version == version else { throw bad("version \(document.version), this server reads version \(version)") }
        let pushback = document.pushbackPercent ?? 0
        guard pushback.isFinite, (0...PacePushback.maximum).contains(pushback) else {
            throw bad("pushbackPercent must be between 0 and \(Int(PacePushback.maximum)), not \(pushback)")
        }
        var entries: [QuotaID: LearnedLimits.Entry] = [:]
        for (index, limit) in document.limits.enumerated() {
            let at = "limits[\(index)]"
            guard !limit.project.isEmpty, !limit.model.isEmpty else { throw bad("\(at): project and model must not be empty") }
            guard limit.requestsPerMinute.isFinite, limit.requestsPerMinute >= 1 else {
                throw bad("\(at): requestsPerMinute must be a number of at least 1, not \(limit.requestsPerMinute)")
            }
            let quota = QuotaID(project: limit.project, model: limit.model)
            guard entries[quota] == nil else { throw bad("\(at): \(quota) is listed twice") }
            entries[quota] = LearnedLimits.Entry(requestsPerMinute: limit.requestsPerMinute, learnedAt: limit.learnedAt)
        }
        return (entries, pushback)
    }

    /// A decoding error in a line: the field's path and what was wrong.
    private static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(path(context)).\(key.stringValue) is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context): return "\(path(context)): \(context.debugDescription)"
        case .dataCorrupted(let context): return context.codingPath.isEmpty ? "invalid JSON" : "\(path(context)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}
