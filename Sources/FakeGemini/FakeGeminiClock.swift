import Synchronization

/// The time the fake's limiters read: the system's continuous clock, or a manual one that moves
/// only when a test calls `advance(by:)`, so limits can be tested without racing real time.
public final class FakeGeminiClock: Sendable {
    private let origin: ContinuousClock.Instant
    private let isManual: Bool
    private let offset = Mutex(Duration.zero)

    /// A clock that follows `ContinuousClock`.
    public convenience init() { self.init(manual: false) }

    private init(manual: Bool) {
        origin = ContinuousClock.now
        isManual = manual
    }

    /// A clock standing still until `advance(by:)`.
    public static func manual() -> FakeGeminiClock { FakeGeminiClock(manual: true) }

    /// Moves a manual clock forward; a system clock ignores it.
    public func advance(by duration: Duration) {
        offset.withLock { $0 += duration }
    }

    /// The current instant.
    public var now: ContinuousClock.Instant {
        guard isManual else { return ContinuousClock.now }
        return origin + offset.withLock { $0 }
    }
}
