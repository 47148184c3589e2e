/// A ``QuotaCoordinator`` cannot answer (its database is down or too slow): the engine starts no
/// request until it answers again. `reason` says what failed, in at most
/// ``maxReasonLength`` characters, and never holds a password.
public struct CoordinationUnavailable: Error, Sendable, Equatable, CustomStringConvertible {
    /// The longest reason kept; a longer one is cut with "…".
    public static let maxReasonLength = 500

    public let reason: String

    public init(reason: String) {
        self.reason = reason.count > Self.maxReasonLength ? String(reason.prefix(Self.maxReasonLength - 1)) + "…" : reason
    }

    public var description: String { "coordination unavailable: \(reason)" }
}
