import ImageGenEngine

/// Whether this process holds its server id in the coordination database (see
/// ``JobManager/holdServerID(_:)``): only then does it claim, renew or take over job leases,
/// which are the server id's, whichever process runs under it.
enum ServerIDHold: Sendable, Equatable {
    /// Not told yet (the database has not answered since the server started).
    case unconfirmed
    /// This process holds it, as a registration sent at `confirmedAt` said; the heartbeat keeps it.
    case held(confirmedAt: ContinuousClock.Instant)
    /// Another live process holds it, reached at `address` (nil when unknown), and took it while
    /// this one had it (this one's heartbeat lapsed while the database was away).
    case inUse(address: String?)
    /// Another live process has held it since `since`, and this one has not held it since it
    /// started (the database was away at start-up): once that lasts longer than a lease, the
    /// other one's heartbeat went on, and this one stops as it would have at start-up.
    case refusedSinceStart(address: String?, since: ContinuousClock.Instant)

    /// The hold once the database answered that another live process, at `address`, holds the id.
    func refused(by address: String?, at instant: ContinuousClock.Instant) -> ServerIDHold {
        switch self {
        case .unconfirmed: .refusedSinceStart(address: address, since: instant)
        case .refusedSinceStart(_, let since): .refusedSinceStart(address: address, since: since)
        case .held, .inUse: .inUse(address: address)
        }
    }

    var isHeld: Bool {
        if case .held = self { true } else { false }
    }

    /// The hold as it can be relied on now: a registration older than `fresh` (the process was
    /// frozen, or its heartbeat could not reach the database) no longer proves it, since another
    /// process may have taken the id once it was a lease old.
    func current(fresh: Duration, now: ContinuousClock.Instant = .now) -> ServerIDHold {
        if case .held(let confirmedAt) = self, now - confirmedAt > fresh { return .unconfirmed }
        return self
    }
}
