/// How a style's requests reach Gemini: one by one (`online`), in Batch API batches at half the
/// price (`batch`), or in batches only when the job's deadline allows them (`auto`).
public enum Delivery: String, Sendable, Codable, CaseIterable {
    case online
    case batch
    case auto
}
