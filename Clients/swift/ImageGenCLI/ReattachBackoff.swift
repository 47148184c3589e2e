/// How long a follower keeps watching a job again while its server answers UNAVAILABLE (the
/// job's run moved: its owner died or lost its lease, and another server takes it over within a
/// lease): waits growing from ``firstDelay`` to ``longestDelay``, for at most ``window`` of
/// outage; any event received starts a new outage.
struct ReattachBackoff: Sendable {
    static let firstDelay: Duration = .milliseconds(250)
    static let longestDelay: Duration = .seconds(4)

    /// The longest outage followed: the default lease (15 s) and a heartbeat, many times over.
    let window: Duration
    private var outageStart: ContinuousClock.Instant?
    private var nextDelay = Self.firstDelay

    init(window: Duration = .seconds(120)) {
        self.window = window
    }

    /// Whether an outage is being waited out (a note was shown for it).
    var inOutage: Bool { outageStart != nil }

    /// The wait before watching again; nil once the outage has lasted the whole window.
    mutating func delay(now: ContinuousClock.Instant = .now) -> Duration? {
        let start = outageStart ?? now
        outageStart = start
        guard now - start < window else { return nil }
        defer { nextDelay = min(nextDelay * 2, Self.longestDelay) }
        return nextDelay
    }

    /// An event arrived: the outage is over.
    mutating func reset() {
        outageStart = nil
        nextDelay = Self.firstDelay
    }
}
