import Foundation
import ImageGenEngine
import ImageGenRPC
import ImageGenWire
import Logging

/// Job leases (``ServiceConfiguration/leases``): a job runs on the server that holds its
/// project's lease. The heartbeat renews this server's leases (recording each run's seq
/// reservation), stops a run whose lease another server holds now, and takes over the jobs of
/// servers that stopped renewing theirs.
extension JobManager {
    /// The heartbeat: every third of the lease duration, until cancelled. The first beat waits
    /// (at most a beat) for the server's address, so that it is recorded from the start. Throws
    /// ``ServerIDInUse`` when another live server turns out to hold the id this one never held
    /// (see ``renewServerID(_:)``).
    func keepLeases(_ leases: any JobLeases) async throws(ServerIDInUse) {
        let interval = configuration.leaseDuration / 3
        state.withLock { $0.leasesConfirmedAt = .now }
        await withTaskGroup(of: Void.self) { race in
            race.addTask { await self.state.wait(on: \.addressWaiters) { $0.address != nil } }
            race.addTask { try? await Task.sleep(for: interval) }
            await race.next()
            race.cancelAll()
        }
        while !Task.isCancelled {
            if try await renewServerID(leases) {
                await renewLeases(leases)
                await takeOverExpiredJobs(leases)
            }
            try? await Task.sleep(for: interval)
        }
    }

    /// The jobs whose lease this server renews: active, their lease claimed, and not stopped for a lost lease.
    func leasedJobs() -> [GenerationJob] {
        state.withLock { state in state.order.filter { !state.claiming.contains($0) }.compactMap { state.jobs[$0] } }
            .filter { $0.isActive && $0.stopReason != .leaseLost }
    }

    /// Renews every running job's lease, with the seqs it may issue; stops the runs whose lease is
    /// gone, and all of them once no renewal has succeeded for a whole lease duration (another
    /// server may take them over as soon as the database answers again).
    private func renewLeases(_ leases: any JobLeases) async {
        let jobs = leasedJobs()
        let seqs = Dictionary(jobs.map { ($0.id, $0.seqGrantedThrough) }, uniquingKeysWith: max)
        do {
            let held = try await leases.renew(owner: configuration.serverID, seqs: seqs, for: configuration.leaseDuration)
            state.withLock { $0.leasesConfirmedAt = .now }
            for job in jobs where held[job.id] == nil {
                await loseLease(of: job, because: "another server holds its lease now (it took the job over)")
            }
        } catch {
            let confirmed = state.withLock { $0.leasesConfirmedAt } ?? .now
            guard ContinuousClock.now - confirmed > configuration.leaseDuration else { return }
            for job in jobs {
                await loseLease(
                    of: job,
                    because: "its lease could not be renewed for longer than it lasts (\(error.reason)); the server that takes it once the database answers goes on with it")
            }
        }
    }

    /// Stops `job`'s run here: its lease is another server's (or may be).
    func loseLease(of job: GenerationJob, because reason: String) async {
        guard job.isActive, job.stopReason == nil else { return }
        logger.warning("job lease lost; stopping its run here", metadata: ["job": "\(job.id)", "reason": "\(reason)"])
        await publish(.message("server \(configuration.serverID) stops this job: \(reason)"), to: job)
        job.requestStop(.leaseLost)
    }

    /// Takes over the jobs whose owner stopped renewing their leases, and resumes each.
    private func takeOverExpiredJobs(_ leases: any JobLeases) async {
        let taken: [JobLease]
        do {
            taken = try await leases.takeExpired(owner: configuration.serverID, for: configuration.leaseDuration, limit: 8)
        } catch {
            return  // Said by the renewal and the engine; nothing is taken over meanwhile.
        }
        for lease in taken { await resumeTakenOver(lease, leases) }
    }

    /// Resumes a job taken over from a server that stopped renewing its lease, after every seq
    /// that server's run could issue. A job that cannot start here is given back: at once for
    /// another try when it may start later, for good when it cannot run at all.
    private func resumeTakenOver(_ lease: JobLease, _ leases: any JobLeases) async {
        let metadata: Logger.Metadata = ["job": "\(lease.jobID)", "project": "\(ClientText.loggable(lease.project))"]
        guard let request = try? StartGenerationRequest(serializedBytes: Array(lease.request)) else {
            logger.error("a taken-over job's request cannot be read; it is given up", metadata: metadata)
            try? await leases.release(jobID: lease.jobID, owner: configuration.serverID, finished: true)
            return
        }
        let firstSeq = lease.seqReservedThrough + 1
        do {
            let (job, attached) = try await startJob(request, id: lease.jobID, firstSeq: firstSeq, leased: true)
            guard !attached else { return }
            await publish(.message("taken over by server \(configuration.serverID) after its lease expired; this run's events start at seq \(firstSeq)"), to: job)
            logger.info("job taken over", metadata: metadata.merging(["first_seq": "\(firstSeq)"]) { $1 })
        } catch {
            let hopeless = await giveBackLease(jobID: lease.jobID, after: error)
            logger.warning(
                hopeless ? "a taken-over job cannot start; it is given up" : "a taken-over job cannot start yet; it is given back to be tried again",
                metadata: metadata.merging(["error": "\(error.message)"]) { $1 })
        }
    }

    /// Gives back the lease of a job that could not start here after a take-over or restart: for
    /// good when it never can (a refused request, unreadable progress), else expired, for the
    /// next look (a project still locked while its old run winds down on this host, a database
    /// that did not answer). True when given up for good.
    @discardableResult
    func giveBackLease(jobID: String, after error: RPCError) async -> Bool {
        let hopeless = error.code == .invalidArgument || error.code == .dataLoss
        try? await configuration.leases?.release(jobID: jobID, owner: configuration.serverID, finished: hopeless)
        return hopeless
    }

    /// Claims the project's lease for a new job (admitted here, its project locked); throws
    /// FAILED_PRECONDITION naming the server that holds it, UNAVAILABLE when the database does not answer.
    func claimLease(for job: GenerationJob) async throws(RPCError) {
        guard let leases = configuration.leases else { return }
        try requireServerID()
        let lease = JobLease(
            project: leaseProject(job.projectDir), jobID: job.id, owner: configuration.serverID,
            request: Data(job.request.serializedBytes()), seqReservedThrough: job.seqGrantedThrough)
        let claim: JobLeaseClaim
        do {
            claim = try await leases.claim(lease, resuming: false, for: configuration.leaseDuration)
        } catch {
            throw RPCError(.unavailable, "project \"\(job.projectDir)\": its lease cannot be claimed (\(error.reason)); no job starts until the coordination database answers")
        }
        if case .held(let holder) = claim {
            throw RPCError(
                .failedPrecondition,
                "project \"\(job.projectDir)\" is rendered by job \(holder.jobID) on server \(holder.owner); watch or cancel it there, or wait for it")
        }
    }

    /// Claims the lease of a job the state file says ran here; the first seq its resumed run may
    /// issue (beyond what any server recorded for it), or nil when it is not this server's to
    /// resume (another took it over, or the database cannot say: then a take-over resumes it).
    func claimLeaseForResume(_ entry: JobStateFile.Entry, request: Data, firstSeq: UInt64) async -> UInt64? {
        guard let leases = configuration.leases else { return firstSeq }
        guard holdsServerID else {
            logger.error(
                "job not resumed: this server's id is not confirmed; a server takes it over once the database answers",
                metadata: ["job": "\(entry.id)"])
            return nil
        }
        let lease = JobLease(
            project: leaseProject(entry.projectDir), jobID: entry.id, owner: configuration.serverID, request: request,
            seqReservedThrough: firstSeq - 1)
        do {
            switch try await leases.claim(lease, resuming: true, for: configuration.leaseDuration) {
            case .claimed(let recorded):
                return max(firstSeq, recorded + 1)
            case .held(let holder):
                let fate = holder.jobID != entry.id
                    ? "its project has another job now (\(holder.jobID) on server \(holder.owner))"
                    : holder.finished ? "it finished on server \(holder.owner)" : "server \(holder.owner) took it over"
                logger.info("job not resumed: \(fate)", metadata: ["job": "\(entry.id)"])
                return nil
            }
        } catch {
            logger.error(
                "job not resumed: its lease cannot be claimed; a server takes it over once the database answers",
                metadata: ["job": "\(entry.id)", "error": "\(error.reason)"])
            return nil
        }
    }

    /// Gives up `job`'s lease when its run ends here: for good when it finished, else (a
    /// shutdown) to be taken over by the first server that looks.
    func releaseLease(of job: GenerationJob, finished: Bool) async {
        guard let leases = configuration.leases else { return }
        do {
            try await leases.release(jobID: job.id, owner: configuration.serverID, finished: finished)
        } catch {
            logger.error(
                "cannot release a job's lease; another server may take the job over once it expires",
                metadata: ["job": "\(job.id)", "error": "\(error.reason)"])
        }
    }

    /// Records in the leases the seqs each run may issue (job id → bound); what was recorded per
    /// job this server still holds, or nil without leases or when the database did not answer.
    func recordSeqReservations(_ bounds: [String: UInt64]) async -> [String: UInt64]? {
        guard let leases = configuration.leases, !bounds.isEmpty, holdsServerID else { return nil }
        do {
            let held = try await leases.renew(owner: configuration.serverID, seqs: bounds, for: configuration.leaseDuration)
            state.withLock { $0.leasesConfirmedAt = .now }
            return held
        } catch {
            logger.warning(
                "cannot record the jobs' seq reservations in their leases; a server taking one over may repeat seqs",
                metadata: ["error": "\(error.reason)"])
            return nil
        }
    }

    /// The key of a project's lease: its folder's path, which names the same folder on every
    /// server of a shared projects root (and different folders for servers with roots of their own).
    func leaseProject(_ projectDir: String) -> String {
        configuration.projectsRoot.url.appendingPathComponent(projectDir).path
    }

    /// The lease of job `id`, whichever server holds it; nil without leases, without a lease for
    /// it, or when the database does not answer.
    func lease(ofJob id: String) async -> JobLease? {
        guard let leases = configuration.leases else { return nil }
        return try? await leases.lease(ofJob: id)
    }

    /// The server that holds the live lease of `projectDir`, to forward a start to; nil when it is
    /// this server, no server, or unknown.
    func foreignOwner(ofProject projectDir: String) async -> JobOwner? {
        guard let leases = configuration.leases, let directory = try? await openProject(projectDir) else { return nil }
        let relative = Self.relativePath(directory.url, root: configuration.projectsRoot.url)
        guard let lease = try? await leases.lease(ofProject: leaseProject(relative)), lease.owner != configuration.serverID,
            let address = lease.ownerAddress
        else { return nil }
        return JobOwner(serverID: lease.owner, address: address)
    }

    /// The server whose job a start on `projectDir` that was refused with `error` should attach
    /// to, if another server's: when the refusal is the project's lock, held by a process whose
    /// lease is not in the database yet (two servers started it at once; the winner's claim is one
    /// statement after its lock), waits up to ``lockedStartWait`` for that lease to appear.
    func foreignOwner(ofStart projectDir: String, refusedWith error: RPCError) async -> JobOwner? {
        let locked = Self.refusedByLock(error)
        let deadline = ContinuousClock.now + (locked && configuration.leases != nil ? Self.lockedStartWait : .zero)
        while true {
            if let owner = await foreignOwner(ofProject: projectDir) { return owner }
            guard ContinuousClock.now < deadline, !Task.isCancelled else { return nil }
            try? await Task.sleep(for: .milliseconds(25))
        }
    }

    /// Whether a start was refused because another process holds the project's lock.
    static func refusedByLock(_ error: RPCError) -> Bool {
        (error.cause as? EngineError)?.code == .projectLocked
    }

    /// How long a start refused by the project's lock waits for the holder's lease (see
    /// ``foreignOwner(ofStart:refusedWith:)``): a claim is one statement, well within this.
    static let lockedStartWait: Duration = .seconds(2)

    /// Job `id` runs, or ran, on the server of `lease`: FAILED_PRECONDITION saying which.
    func elsewhereError(_ id: String, _ lease: JobLease) -> RPCError {
        if lease.finished {
            let project = Self.relativePath(URL(fileURLWithPath: lease.project), root: configuration.projectsRoot.url)
            return RPCError(.failedPrecondition, "job \(id) finished on server \(lease.owner) (project \"\(ClientText.loggable(project))\"); ask that server, or GetStatus by project")
        }
        return RPCError(.failedPrecondition, "job \(id) runs on server \(lease.owner), not on this server (\(configuration.serverID)); ask that server")
    }
}
