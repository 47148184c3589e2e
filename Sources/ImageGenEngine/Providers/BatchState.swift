/// A batch's state at Gemini (`BATCH_STATE_*`; the SDKs call them `JOB_STATE_*`).
public enum BatchState: String, Sendable, Codable, CaseIterable {
    case unspecified = "BATCH_STATE_UNSPECIFIED"
    case pending = "BATCH_STATE_PENDING"
    case running = "BATCH_STATE_RUNNING"
    case succeeded = "BATCH_STATE_SUCCEEDED"
    case failed = "BATCH_STATE_FAILED"
    case cancelled = "BATCH_STATE_CANCELLED"
    case expired = "BATCH_STATE_EXPIRED"

    /// Reads `BATCH_STATE_X` or `JOB_STATE_X`; anything else is `.unspecified`.
    public init(wire: String) {
        let name = wire.hasPrefix("JOB_STATE_") ? "BATCH_STATE_" + wire.dropFirst("JOB_STATE_".count) : wire
        self = BatchState(rawValue: name) ?? .unspecified
    }

    /// Nothing more will happen to the batch.
    public var isTerminal: Bool {
        switch self {
        case .succeeded, .failed, .cancelled, .expired: true
        case .unspecified, .pending, .running: false
        }
    }

    /// The short name people read: "pending", "running", "succeeded", ….
    public var shortName: String {
        String(rawValue.dropFirst("BATCH_STATE_".count)).lowercased()
    }
}
