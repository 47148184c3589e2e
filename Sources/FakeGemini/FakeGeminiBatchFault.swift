/// How one batch the fake creates misbehaves (`--batch-fault NAME`, in creation order, or
/// `FakeGeminiConfiguration.batchFaults`). A per-request error inside a batch is asked for by the
/// request's prompt, as online (`[[fault:server_error]]`).
public enum FakeGeminiBatchFault: Sendable, Equatable {
    /// Stays PENDING for ever (until cancelled).
    case stuckPending
    /// After its pending time, ends EXPIRED: nothing processed, nothing billed.
    case expire
    /// After its pending time, ends FAILED with an error: nothing processed.
    case fail
    /// The batch is created, then the connection is closed without an answer.
    case loseCreateAnswer
    /// Processes its first `count` requests, then ends CANCELLED with those results.
    case partialThenCancelled(count: Int)

    /// The names `--batch-fault` takes: `stuck_pending`, `expire`, `fail`, `lose_create_answer`, `partial_cancel:N`.
    public init?(name: String) {
        switch name {
        case "stuck_pending": self = .stuckPending
        case "expire": self = .expire
        case "fail": self = .fail
        case "lose_create_answer": self = .loseCreateAnswer
        default:
            guard name.hasPrefix("partial_cancel:"), let count = Int(name.dropFirst("partial_cancel:".count)), count >= 0
            else { return nil }
            self = .partialThenCancelled(count: count)
        }
    }

    /// Every name `init(name:)` reads, for help texts.
    public static let names = ["stuck_pending", "expire", "fail", "lose_create_answer", "partial_cancel:N"]
}
