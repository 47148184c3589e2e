import ImageGenEngine

/// Whether this process holds its server id in the coordination database (see
/// ``JobManager/holdServerID(_:)``): only then does it claim, renew or take over job leases,
/// which are the server id's, whichever process runs under it.
enum ServerIDHold: Sendable, Equatable {
    /// Not told yet (the database has not answered since the server started).
    case unconfirmed
    /// This process holds it; its heartbeat keeps it.
    case held
    /// Another live process holds it, reached at `address` (nil when unknown).
    case inUse(address: String?)
}
