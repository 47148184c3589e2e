import Foundation
import ImageGenWire

/// The running jobs kept in the state directory (``JobStateFile``): saved with seq reservations
/// as jobs start and end, and resumed when the server starts again.
extension JobManager {
    /// Saves the running jobs, each with a seq reservation beyond its last seq, then lets each run
    /// issue seqs up to what was saved. `job`, when given, gets seqs even if it is not in the file
    /// (it no longer runs, so no later server resumes it).
    func persistRunningJobs(reservingFor job: GenerationJob? = nil) async {
        let (entries, failure) = await stateFile.save { self.stateEntries() }
        if let failure {
            // The job goes on all the same; only a crash before the next good save could repeat seqs.
            logger.error(
                "cannot save the running jobs; after a crash their resumed runs may reuse seqs",
                metadata: ["file": "\(stateFile.url.path)", "error": "\(failure)"])
        }
        let granted = state.withLock { state in
            entries.compactMap { entry in state.jobs[entry.id].map { ($0, entry.seqReservedThrough ?? 0) } }
        }
        // With leases, a run issues no seq its lease does not record (a server taking the job
        // over starts after it), unless the database does not answer.
        let leased = granted.filter { $0.0.isActive && $0.0.stopReason != .leaseLost }
        let recorded = await recordSeqReservations(Dictionary(leased.map { ($0.0.id, $0.1) }, uniquingKeysWith: max))
        for (running, bound) in granted { running.grantSeqs(through: recorded?[running.id].map { min($0, bound) } ?? bound) }
        if let job, !entries.contains(where: { $0.id == job.id }) { job.grantSeqs(through: .max) }
    }

    /// What the state file should hold now: the running jobs (and those a shutdown stopped) with
    /// fresh seq reservations, and the previous run's jobs not resumed yet.
    func stateEntries() -> [JobStateFile.Entry] {
        let (running, pending) = state.withLock { state in
            (state.order.compactMap { state.jobs[$0] }.filter(\.isResumable), state.pendingResume)
        }
        let entries = running.map { job in
            JobStateFile.Entry(
                id: job.id, projectDir: job.projectDir, request: Data(job.request.serializedBytes()).base64EncodedString(),
                createdUnixMs: job.createdUnixMs, seqReservedThrough: job.seqReservationTarget())
        }
        let ids = Set(entries.map(\.id))
        return entries + pending.filter { !ids.contains($0.id) }
    }

    func resumePersistedJobs() async {
        let entries: [JobStateFile.Entry]
        do {
            entries = try await stateFile.load()
        } catch {
            logger.error("cannot read the running jobs; none resumed", metadata: ["file": "\(stateFile.url.path)", "error": "\(error)"])
            return
        }
        state.withLock { $0.pendingResume = entries }
        for (index, entry) in entries.enumerated() {
            // Shut down while starting (waiting for the server id, say): the rest stay pending,
            // and in the state file, for the next start.
            guard !Task.isCancelled else {
                logger.info("shutting down before resuming \(entries.count - index) job(s) of the previous run; the next start resumes them")
                break
            }
            defer { state.withLock { $0.pendingResume.removeAll { $0.id == entry.id } } }
            guard let bytes = Data(base64Encoded: entry.request),
                let request = try? StartGenerationRequest(serializedBytes: Array(bytes))
            else {
                logger.error("skipping an unreadable job entry", metadata: ["job": "\(entry.id)"])
                continue
            }
            // Beyond every seq the previous run could issue (servers that did not reserve seqs
            // started at 1), and beyond what a server that took the job over recorded.
            guard let firstSeq = await claimLeaseForResume(entry, request: bytes, firstSeq: (entry.seqReservedThrough ?? 0) + 1) else {
                continue
            }
            do {
                let (job, _) = try await startJob(request, id: entry.id, firstSeq: firstSeq, leased: configuration.leases != nil)
                await publish(.message("resumed after a server restart; this run's events start at seq \(firstSeq)"), to: job)
                logger.info(
                    "job resumed after restart",
                    metadata: ["job": "\(entry.id)", "project": "\(entry.projectDir)", "first_seq": "\(firstSeq)"])
            } catch {
                logger.error("cannot resume job", metadata: ["job": "\(entry.id)", "error": "\(error)"])
                await giveBackLease(jobID: entry.id, after: error)
            }
        }
    }
}
