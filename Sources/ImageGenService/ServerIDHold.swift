import ImageGenEngine

/// Whether this process holds its server id in the coordination database (see
/// ``JobManager/holdServerID(_:)``): only then does it claim, renew or take over job leases,
/// which are the server id's, whichever process runs under it.
enum ServerIDHold: Sendable, Equatable {
    /// Not told yet (the database has not answered since the server started).
    case unconfirmed
    /// This process holds it, as a registration sent at `confirmedAt` said; the heartbeat keeps it.
    case held(confirmedAt: ContinuousClock.Instant)
    /// Another live process holds it, reached at `address` (nil when unknown).
    case inUse(address: String?)

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
