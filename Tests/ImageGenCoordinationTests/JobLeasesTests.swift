import Foundation
import ImageGenCoordination
import ImageGenEngine
import ImageGenTestSupport
import Testing

/// Job leases alone, on a real PostgreSQL cluster, as several servers' connections see them:
/// who may claim a project, what a resuming server may take back, renewals that tell a run it lost
/// its job, and take-overs that hand each expired job to one server only.
@Suite(.timeLimit(.minutes(2)), .hangWatchdog)
struct JobLeasesTests {
    static func lease(_ job: String, owner: String, project: String = "film", seq: UInt64 = 0) -> JobLease {
        JobLease(project: project, jobID: job, owner: owner, request: Data("request of \(job)".utf8), seqReservedThrough: seq)
    }

    /// How the project's row stands before a claim.
    enum Before: String, CaseIterable, Sendable {
        case none, liveOther, liveMine, expiredOther, finishedOther
    }

    /// A new job's claim (not resuming) by server "b" for job "new", after each state of the row.
    @Test(arguments: Before.allCases)
    func aNewJobTakesAProjectUnlessAnotherServerHoldsIt(before: Before) async throws {
        try await CoordinationRig.with(databases: 1) { rig in
            let leases = PostgresJobLeases(database: rig.databases[0])
            switch before {
            case .none: break
            case .liveOther: _ = try await leases.claim(Self.lease("old", owner: "a", seq: 70), resuming: false, for: .seconds(60))
            case .liveMine: _ = try await leases.claim(Self.lease("old", owner: "b", seq: 70), resuming: false, for: .seconds(60))
            case .expiredOther: _ = try await leases.claim(Self.lease("old", owner: "a", seq: 70), resuming: false, for: .zero)
            case .finishedOther:
                _ = try await leases.claim(Self.lease("old", owner: "a", seq: 70), resuming: false, for: .seconds(60))
                try await leases.release(jobID: "old", owner: "a", finished: true)
            }
            let claim = try await leases.claim(Self.lease("new", owner: "b", seq: 5), resuming: false, for: .seconds(60))
            let now = try #require(try await leases.lease(ofJob: before == .liveOther ? "old" : "new"))
            if before == .liveOther {
                guard case .held(let holder) = claim else { Issue.record("\(claim)"); return }
                #expect(holder.jobID == "old" && holder.owner == "a" && holder.request == Data("request of old".utf8))
                #expect(now.owner == "a" && now.seqReservedThrough == 70, "the refused claim changed the row: \(now)")
            } else {
                // A different job's lease starts from its own seqs, not the old job's.
                #expect(claim == .claimed(seqReservedThrough: 5))
                #expect(now.owner == "b" && !now.finished && now.expiresAt > Date().addingTimeInterval(30))
                #expect(try await leases.lease(ofJob: "old") == nil)
            }
        }
    }

    /// A restarted server resuming job "j" from its state file: it takes the lease back only when
    /// the lease is still j's, unfinished, and its own or expired; and the seqs recorded by
    /// whoever ran j last are kept (the greater of the two).
    @Test(arguments: [
        (owner: "a", expired: false, finished: false, job: "j", resumes: true),
        (owner: "b", expired: false, finished: false, job: "j", resumes: false),
        (owner: "b", expired: true, finished: false, job: "j", resumes: true),
        (owner: "b", expired: true, finished: true, job: "j", resumes: false),
        (owner: "a", expired: false, finished: true, job: "j", resumes: false),
        (owner: "b", expired: true, finished: false, job: "k", resumes: false),
    ])
    func aResumedJobTakesBackOnlyItsOwnLease(owner: String, expired: Bool, finished: Bool, job: String, resumes: Bool) async throws {
        try await CoordinationRig.with(databases: 1) { rig in
            let leases = PostgresJobLeases(database: rig.databases[0])
            _ = try await leases.claim(Self.lease(job, owner: owner, seq: 900), resuming: false, for: expired ? .zero : .seconds(60))
            if finished { try await leases.release(jobID: job, owner: owner, finished: true) }
            let claim = try await leases.claim(Self.lease("j", owner: "a", seq: 400), resuming: true, for: .seconds(60))
            if resumes {
                #expect(claim == .claimed(seqReservedThrough: 900), "\(claim)")
                #expect(try await leases.lease(ofJob: "j")?.owner == "a")
            } else {
                guard case .held(let holder) = claim else { Issue.record("resumed: \(claim)"); return }
                #expect(holder.jobID == job && holder.owner == owner && holder.finished == finished)
            }
        }
    }

    /// Renewals extend only the renewing server's unfinished leases, keep the greater seq, and
    /// leave out a job taken over meanwhile: that is how its old run learns to stop.
    @Test func aRenewalNamesOnlyTheLeasesStillHeld() async throws {
        try await CoordinationRig.with(databases: 2) { rig in
            let a = PostgresJobLeases(database: rig.databases[0])
            let b = PostgresJobLeases(database: rig.databases[1])
            _ = try await a.claim(Self.lease("j1", owner: "a", project: "p1", seq: 100), resuming: false, for: .seconds(60))
            _ = try await a.claim(Self.lease("j2", owner: "a", project: "p2", seq: 100), resuming: false, for: .zero)
            _ = try await a.claim(Self.lease("j3", owner: "a", project: "p3", seq: 100), resuming: false, for: .seconds(60))
            try await a.release(jobID: "j3", owner: "a", finished: true)
            let taken = try await b.takeExpired(owner: "b", for: .seconds(60), limit: 10)
            #expect(taken.map(\.jobID) == ["j2"] && taken.first?.seqReservedThrough == 100 && taken.first?.owner == "b")
            let held = try await a.renew(owner: "a", seqs: ["j1": 50, "j2": 300, "j3": 300, "nope": 1], for: .seconds(60))
            #expect(held == ["j1": 100], "\(held)")
            #expect(try await b.renew(owner: "b", seqs: ["j2": 300], for: .seconds(60)) == ["j2": 300])
            // A release by a server that no longer owns the job changes nothing.
            try await a.release(jobID: "j2", owner: "a", finished: true)
            let j2 = try #require(try await b.lease(ofJob: "j2"))
            #expect(j2.owner == "b" && !j2.finished)
        }
    }

    /// Three servers look for expired leases at once, again and again: each of 30 expired jobs
    /// goes to exactly one of them, and a live or finished lease to none.
    @Test func eachExpiredJobIsTakenOverByOneServer() async throws {
        try await CoordinationRig.with(databases: 3) { rig in
            let owner = PostgresJobLeases(database: rig.databases[0])
            for index in 0..<30 {
                _ = try await owner.claim(Self.lease("dead-\(index)", owner: "dead", project: "p\(index)"), resuming: false, for: .zero)
            }
            _ = try await owner.claim(Self.lease("live", owner: "dead", project: "live"), resuming: false, for: .seconds(60))
            _ = try await owner.claim(Self.lease("done", owner: "dead", project: "done"), resuming: false, for: .seconds(60))
            try await owner.release(jobID: "done", owner: "dead", finished: true)
            let takers = try await withThrowingTaskGroup(of: [(String, String)].self) { group in
                for (index, database) in rig.databases.enumerated() {
                    group.addTask {
                        let leases = PostgresJobLeases(database: database)
                        var mine: [(String, String)] = []
                        for _ in 0..<10 {
                            mine += try await leases.takeExpired(owner: "s\(index)", for: .seconds(60), limit: 2).map { ($0.jobID, $0.owner) }
                        }
                        return mine
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            let jobs = takers.map(\.0)
            #expect(jobs.count == 30 && Set(jobs) == Set((0..<30).map { "dead-\($0)" }), "\(jobs.sorted())")
            for (job, taker) in takers { #expect(try await owner.lease(ofJob: job)?.owner == taker) }
            #expect(try await owner.lease(ofJob: "live")?.owner == "dead")
        }
    }
}

extension JobLeasesTests {
    /// The servers listed: those seen within the window, and, however long ago they were seen (or
    /// never), those that lease an unfinished job (live or expired), each with those jobs only;
    /// by id, at most `limit`.
    @Test func theServersListedAreTheRecentOnesAndTheLeaseHolders() async throws {
        try await CoordinationRig.with(databases: 1) { rig in
            let leases = PostgresJobLeases(database: rig.databases[0])
            for (id, address) in [("recent", "10.0.0.1:7000"), ("old", "10.0.0.2:7000"), ("old-holder", nil)] {
                #expect(try await leases.register(server: id, instance: id, address: address, holdFor: .seconds(60)) == .registered)
            }
            _ = try await rig.databases[0].withConnection { connection in
                try await connection.query("UPDATE imagegen_server SET seen_at = seen_at - interval '1 hour' WHERE id LIKE 'old%'")
            }
            _ = try await leases.claim(Self.lease("j1", owner: "old-holder", project: "p1"), resuming: false, for: .zero)
            _ = try await leases.claim(Self.lease("j2", owner: "recent", project: "p2"), resuming: false, for: .seconds(60))
            _ = try await leases.claim(Self.lease("j3", owner: "recent", project: "p3"), resuming: false, for: .seconds(60))
            try await leases.release(jobID: "j3", owner: "recent", finished: true)
            _ = try await leases.claim(Self.lease("j4", owner: "unregistered", project: "p4"), resuming: false, for: .seconds(60))

            let listed = try await leases.servers(seenWithin: .seconds(60), limit: 10)
            #expect(listed.map(\.id) == ["old-holder", "recent", "unregistered"], "\(listed)")
            let jobs = Dictionary(listed.map { ($0.id, $0.jobs.map { "\($0.jobID)@\($0.project)" }) }, uniquingKeysWith: { $1 })
            #expect(jobs == ["old-holder": ["j1@p1"], "recent": ["j2@p2"], "unregistered": ["j4@p4"]])
            #expect(listed.map(\.address) == [nil, "10.0.0.1:7000", nil])
            #expect(listed[1].seenAt.map { abs($0.timeIntervalSinceNow) < 30 } == true && listed[2].seenAt == nil)
            #expect(listed[0].seenAt.map { $0.timeIntervalSinceNow < -3_000 } == true)

            #expect(try await leases.servers(seenWithin: .seconds(60), limit: 1).map(\.id) == ["old-holder"])
            #expect(try await leases.servers(seenWithin: .seconds(7_200), limit: 10).map(\.id) == ["old", "old-holder", "recent", "unregistered"])
        }
    }
}

extension JobLeasesTests {
    /// How server id "render"'s row stands before process "second" registers under it.
    enum HolderBefore: String, CaseIterable, Sendable {
        case none, second, liveFirst, staleFirst, stoppedFirst
        /// First holds the id for 10 minutes (its lease), and beat 2 minutes ago: longer ago than
        /// second's hold would last, but first's hold has not lapsed.
        case longHoldFirst
    }

    /// One process per server id: "second" takes the id unless "first" holds it still, for as long
    /// as first's own hold said (then nothing changes, and the answer says where first runs and for
    /// how long it holds the id); once second holds it, first is refused in turn. Giving up an id
    /// one does not hold changes nothing.
    @Test(arguments: HolderBefore.allCases)
    func aServerIDIsHeldByOneProcessAtATime(before: HolderBefore) async throws {
        try await CoordinationRig.with(databases: 1) { rig in
            let leases = PostgresJobLeases(database: rig.databases[0])
            func register(_ instance: String, for hold: Duration = .seconds(60)) async throws -> ServerRegistration {
                try await leases.register(server: "render", instance: instance, address: "10.0.0.\(instance.count):7000", holdFor: hold)
            }
            func row() async throws -> [String?] {
                try await rig.databases[0].withConnection { connection in
                    try await connection.query("SELECT instance, address FROM imagegen_server WHERE id = 'render'")
                        .map { row in let (instance, address) = try row.decode((String?, String?).self); return [instance, address] }
                }.first ?? []
            }
            switch before {
            case .none: break
            case .second: #expect(try await register("second") == .registered)
            case .liveFirst, .staleFirst, .stoppedFirst: #expect(try await register("first") == .registered)
            case .longHoldFirst: #expect(try await register("first", for: .seconds(600)) == .registered)
            }
            if before == .staleFirst || before == .longHoldFirst {
                try await rig.databases[0].withConnection { connection in
                    try await connection.query(
                        "UPDATE imagegen_server SET seen_at = seen_at - interval '120 seconds', held_until = held_until - interval '120 seconds'")
                }
            }
            if before == .stoppedFirst { try await leases.unregister(server: "render", instance: "first") }
            try await leases.unregister(server: "render", instance: "nobody")  // holds nothing: changes nothing

            let answer = try await register("second")
            if before == .liveFirst || before == .longHoldFirst {
                guard case .heldByAnother(let address, let seenAgo, let heldFor) = answer else { Issue.record("\(answer)"); return }
                #expect(address == "10.0.0.5:7000", "\(answer)")
                if before == .liveFirst {
                    #expect(seenAgo < .seconds(30) && heldFor > .seconds(30) && heldFor <= .seconds(60), "\(answer)")
                } else {
                    #expect(seenAgo >= .seconds(120) && heldFor > .seconds(400) && heldFor <= .seconds(480), "\(answer)")
                }
                #expect(try await row() == ["first", "10.0.0.5:7000"], "the refused registration changed the row")
            } else {
                #expect(answer == .registered)
                #expect(try await row() == ["second", "10.0.0.6:7000"])
                guard case .heldByAnother(let address, _, _) = try await register("first") else {
                    Issue.record("first took the id second holds"); return
                }
                #expect(address == "10.0.0.6:7000")
            }
        }
    }
}
