import ImageGenEngine
import ImageGenRPC
import Logging

/// One process per server id (``ServiceConfiguration/serverID``, with leases): job leases are
/// the server id's, so a second live process under the same id would renew, resume and take over
/// the first one's jobs, and bill every image twice. A process holds its id through its
/// ``JobManager/instance`` token in the database, kept by the heartbeat, and claims, renews or
/// takes over leases only while it does.
extension JobManager {
    /// How long past another process's hold this one waits before it takes the hold as kept (its
    /// heartbeat went on), at start-up and after a start the database did not answer.
    static var lapseMargin: Duration { .milliseconds(250) }

    /// Takes the server id for this process before any lease is claimed: at once when it is free,
    /// its holder shut down, or the holder's heartbeat is older than a lease; else after waiting
    /// until a dead holder's last heartbeat would be that old (a server restarted right after a
    /// crash). Throws ``ServerIDInUse`` when the holder's heartbeat went on meanwhile. When the
    /// database does not answer, returns with the id unconfirmed: the heartbeat takes it later.
    func holdServerID(_ leases: any JobLeases) async throws(ServerIDInUse) {
        var waited = false
        while !Task.isCancelled {
            let answer: ServerRegistration
            let sent = ContinuousClock.now
            do {
                answer = try await register(leases)
            } catch {
                logger.warning("server id \"\(configuration.serverID)\" not confirmed (\(error.reason)); no job lease is claimed until the database answers")
                return
            }
            guard case .heldByAnother(let address, let seenAgo, let heldFor) = answer else {
                state.withLock { $0.serverIDHold = .held(confirmedAt: sent) }
                return
            }
            guard !waited else { throw ServerIDInUse(serverID: configuration.serverID, address: address, seenAgo: seenAgo) }
            let lapse = heldFor + Self.lapseMargin
            logger.warning(
                "server id \"\(configuration.serverID)\" is held by another process\(address.map { " (at \($0))" } ?? ""); waiting \(lapse) for its heartbeat to lapse (a server that just stopped)")
            waited = true
            guard (try? await Task.sleep(for: lapse)) != nil else { return }
        }
    }

    /// The heartbeat's registration: keeps the hold, or takes it once the database answers; when
    /// another process holds the id now (this one's heartbeat lapsed while the database was away
    /// and a server started under the same id), stops every run here. True when this process
    /// holds it. Throws ``ServerIDInUse`` when this process has not held the id since it started
    /// (the database did not answer then) and another one's heartbeat has held it for longer than
    /// a lease: the server stops, as it would have at start-up.
    func renewServerID(_ leases: any JobLeases) async throws(ServerIDInUse) -> Bool {
        let sent = ContinuousClock.now
        let answer = try? await register(leases)
        let (before, now) = state.withLock { state -> (ServerIDHold, ServerIDHold) in
            let before = state.serverIDHold
            switch answer {
            case .registered?: state.serverIDHold = .held(confirmedAt: sent)
            case .heldByAnother(let address, _, _)?: state.serverIDHold = before.refused(by: address, at: sent)
            case nil: break
            }
            return (before, state.serverIDHold)
        }
        switch now {
        case .held where !before.isHeld:
            logger.info("server id \"\(configuration.serverID)\" confirmed with the coordination database")
        case .inUse(let address):
            // At every beat: a run whose claim was under way when the id was lost is stopped too.
            let reason = Self.inUse(configuration.serverID, address)
            if now != before { logger.error("\(reason); this server starts no job until that one stops") }
            for job in leasedJobs() { await loseLease(of: job, because: reason) }
        case .refusedSinceStart(let address, let since):
            let logged = if case .refusedSinceStart = before { true } else { false }
            try refuseOnceALeaseHasPassed(since: since, address: address, answer: answer, logged: logged)
        default:
            break
        }
        return now.isHeld
    }

    /// Throws ``ServerIDInUse`` once refusals since `since` outlast a lease (and the margin the
    /// start-up wait gives); until then waits, as the start-up does, for a dead holder's heartbeat
    /// to lapse, and says so once (`logged` is true once it has).
    private func refuseOnceALeaseHasPassed(
        since: ContinuousClock.Instant, address: String?, answer: ServerRegistration?, logged: Bool
    ) throws(ServerIDInUse) {
        guard ContinuousClock.now - since > configuration.leaseDuration + Self.lapseMargin else {
            guard !logged else { return }
            logger.warning("server id \"\(configuration.serverID)\" is held by another process\(address.map { " (at \($0))" } ?? ""); waiting for its heartbeat to lapse (a server that just stopped)")
            return
        }
        var seenAgo = Duration.zero
        if case .heldByAnother(_, let ago, _)? = answer { seenAgo = ago }
        throw ServerIDInUse(serverID: configuration.serverID, address: address, seenAgo: seenAgo)
    }

    /// Gives up the server id as the server stops, so that a server started next under it
    /// registers at once.
    func releaseServerID(_ leases: any JobLeases) async {
        guard state.withLock({ $0.serverIDHold }).isHeld else { return }
        try? await leases.unregister(server: configuration.serverID, instance: instance)
    }

    /// Why this server cannot coordinate now, so that no request of its jobs starts: its database
    /// does not answer (``ServiceConfiguration/coordinationProblem``), or its server id is
    /// another server's; nil when it can, and without a database.
    func coordinationProblem() -> String? {
        guard configuration.leases != nil else { return nil }
        if let problem = configuration.coordinationProblem?() { return String(problem.prefix(1_000)) }
        switch currentHold() {
        case .held: return nil
        case .unconfirmed: return "server id \"\(configuration.serverID)\" is not confirmed by the coordination database (no heartbeat of this server answered lately)"
        case .inUse(let address), .refusedSinceStart(let address, _): return Self.inUse(configuration.serverID, address)
        }
    }

    /// Whether this process holds its server id (always, without leases).
    var holdsServerID: Bool {
        configuration.leases == nil || currentHold().isHeld
    }

    /// Throws unless this process holds its server id: UNAVAILABLE while the database has not
    /// confirmed it, FAILED_PRECONDITION when another server uses it.
    func requireServerID() throws(RPCError) {
        guard configuration.leases != nil else { return }
        switch currentHold() {
        case .held:
            return
        case .unconfirmed:
            throw RPCError(
                .unavailable,
                "server id \"\(configuration.serverID)\" is not confirmed by the coordination database (no heartbeat of this server answered lately); no job starts until the database answers")
        case .inUse(let address), .refusedSinceStart(let address, _):
            throw RPCError(.failedPrecondition, "\(Self.inUse(configuration.serverID, address)); this server starts no job")
        }
    }

    /// The hold, as far as it can be relied on now: a registration held the id for a lease from
    /// when it reached the database, and another process may take it after; older than three
    /// quarters of a lease (the heartbeat registers every third of one), it no longer proves it
    /// (the last quarter is for a statement sent now to reach the database).
    private func currentHold() -> ServerIDHold {
        state.withLock { $0.serverIDHold }.current(fresh: configuration.leaseDuration * 3 / 4)
    }

    private func register(_ leases: any JobLeases) async throws(CoordinationUnavailable) -> ServerRegistration {
        try await leases.register(
            server: configuration.serverID, instance: instance, address: state.withLock { $0.address },
            holdFor: configuration.leaseDuration)
    }

    private static func inUse(_ serverID: String, _ address: String?) -> String {
        "server id \"\(serverID)\" is in use by another running server\(address.map { " at \($0)" } ?? ""): give each server its own --server-id"
    }
}
