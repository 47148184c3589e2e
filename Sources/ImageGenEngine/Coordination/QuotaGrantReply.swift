/// A ``QuotaCoordinator``'s answer to a request start: the ``QuotaGrant``, and the per-minute
/// limit a 429 stated for the quota to any of the servers (``QuotaCoordinator/learn(_:perMinute:)``),
/// nil when none is known or it is older than ``LearnedLimits/freshness``. The coordinator spaces
/// every server's starts at least that far apart; the engine paces at it too, as if its own 429
/// had stated it.
public struct QuotaGrantReply: Sendable, Equatable {
    public var grant: QuotaGrant
    public var learnedLimit: Double?

    public init(_ grant: QuotaGrant, learnedLimit: Double? = nil) {
        self.grant = grant
        self.learnedLimit = learnedLimit
    }
}
