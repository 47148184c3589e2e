import Foundation
import ImageGenCoordination
import ImageGenEngine
import ImageGenTestSupport
import PostgresNIO
import Synchronization
import Testing

/// The coordination path alone, on a real PostgreSQL cluster: the grant's pace across several
/// servers' connections, cool-downs, spent daily quotas, migrations, and an unreachable database.
@Suite(.timeLimit(.minutes(2)), .hangWatchdog)
struct QuotaCoordinatorTests {
    static let quota = QuotaID(project: "film-a", model: "gemini-3.1-flash-image")

    /// A start `imagegen_grant` reserved, and the database clock just after it answered.
    struct Reservation: Sendable {
        let start: Date
        let answered: Date
    }

    /// One `imagegen_grant` call on `database`, as the raw row: the start it reserved (database
    /// clock) for a start, nil otherwise.
    static func reserve(_ database: CoordinationDatabase, spacingUS: Int64, leadUS: Int64) async throws -> Reservation? {
        try await database.withConnection { connection in
            let rows = try await connection.query(
                "SELECT kind, until, clock_timestamp() FROM imagegen_grant(\(quota.project), \(quota.model), \(spacingUS), \(leadUS))")
            guard let (kind, until, answered) = try rows.first?.decode((String, Date?, Date).self), kind == "start",
                let until
            else { return nil }
            return Reservation(start: until, answered: answered)
        }
    }

    /// Three servers' connections ask for starts of one quota at once, as fast as they can: the
    /// starts the database reserved lie at least a spacing apart, whoever got them (by
    /// construction: one locked row), and none is reserved further ahead of the database's clock
    /// than the lead, while contention does reserve ahead.
    @Test(arguments: [(spacing: Int64(20_000), lead: Int64(20_000)), (spacing: 5_000, lead: 1_000)])
    func startsAreSpacedAcrossServers(spacing: Int64, lead: Int64) async throws {
        try await CoordinationRig.with(databases: 3) { rig in
            let reservations = try await withThrowingTaskGroup(of: [Reservation].self) { group in
                for database in rig.databases {
                    for _ in 0..<4 {
                        group.addTask {
                            var mine: [Reservation] = []
                            let end = ContinuousClock.now + .milliseconds(600)
                            while ContinuousClock.now < end {
                                if let reservation = try await Self.reserve(database, spacingUS: spacing, leadUS: lead) {
                                    mine.append(reservation)
                                }
                            }
                            return mine
                        }
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }.sorted { $0.start < $1.start }
            }
            #expect(reservations.count >= 10, "\(reservations.count) starts")
            let gaps = zip(reservations, reservations.dropFirst()).map { $1.start.timeIntervalSince($0.start) }
            let spacingSeconds = Double(spacing) / 1e6
            // Timestamps are microseconds: a gap is the spacing or more, to the microsecond.
            #expect(gaps.allSatisfy { $0 >= spacingSeconds - 1e-6 }, "smallest gap \(gaps.min() ?? 0) s")
            // Reserved no further ahead than the lead (to the microsecond), of the clock it answered on.
            let ahead = reservations.map { $0.start.timeIntervalSince($0.answered) }
            #expect(ahead.allSatisfy { $0 <= Double(lead) / 1e6 + 1e-6 }, "reserved \(ahead.max() ?? 0) s ahead")
            // Twelve askers on a spacing of milliseconds: some starts were reserved ahead.
            #expect(ahead.contains { $0 > 0 }, "no start was reserved ahead")
        }
    }

    /// What the coordinator answers: a start, then a wait while the next start is more than the
    /// lead away; a cool-down, never shortened by a shorter one after it; a spent daily quota.
    @Test func grantsCoolDownsAndSpentQuotas() async throws {
        try await CoordinationRig.with(databases: 2) { rig in
            let (first, second) = (rig.coordinators[0], rig.coordinators[1])
            let spacing = Duration.seconds(10)
            guard case .start(let after) = try await first.grant(Self.quota, spacing: spacing).grant else {
                Issue.record("the first grant is not a start")
                return
            }
            #expect(after == .zero)
            // The second server: the next start is 10 s away, a lead of 1 s: ask again in about 9 s.
            guard case .wait(let wait) = try await second.grant(Self.quota, spacing: spacing).grant else {
                Issue.record("a second grant within the spacing is not a wait")
                return
            }
            #expect(wait > .seconds(8) && wait <= .seconds(9), "\(wait)")

            let other = QuotaID(project: "film-b", model: Self.quota.model)
            try await first.cool(other, for: .seconds(60))
            try await second.cool(other, for: .seconds(1))
            guard case .cooling(let left) = try await second.grant(other, spacing: .milliseconds(10)).grant else {
                Issue.record("a cooling quota granted a start")
                return
            }
            #expect(left > .seconds(58), "the 60 s cool-down was shortened to \(left)")

            let spentQuota = QuotaID(project: "film-c", model: Self.quota.model)
            let midnight = Date().addingTimeInterval(3_600)
            try await first.markDailyQuotaSpent(spentQuota, until: midnight, reason: "daily quota exhausted")
            try await second.markDailyQuotaSpent(spentQuota, until: Date().addingTimeInterval(60), reason: "earlier")
            let spent = try await second.grant(spentQuota, spacing: .milliseconds(10)).grant
            guard case .dailyQuotaSpent(let until, let reason) = spent else {
                Issue.record("a spent quota answered \(spent)")
                return
            }
            #expect(abs(until.timeIntervalSince(midnight)) < 0.01 && reason == "daily quota exhausted")
            // Another model of the same project is its own quota.
            let otherModel = QuotaID(project: "film-c", model: "gemini-3-pro-image")
            #expect(try await second.grant(otherModel, spacing: .milliseconds(10)).grant == .start(after: .zero))
        }
    }

    /// A limit one server learned paces every server's grants while it is fresh: with a caller's
    /// spacing of 1 ms, a learned limit of `perMinute` spaces starts 60 s ÷ `perMinute` apart, and
    /// every reply names it; a later statement replaces it (lower or higher); one older than the
    /// freshness paces nothing and is not named; another model of the project is not paced by it.
    @Test(arguments: [
        (perMinute: 6.0, replacedBy: 4.0, age: "1 hour", fresh: true),
        (perMinute: 4.0, replacedBy: 6.0, age: "6 days", fresh: true),
        (perMinute: 6.0, replacedBy: 4.0, age: "8 days", fresh: false),
    ])
    func aLearnedLimitPacesEveryServer(perMinute: Double, replacedBy: Double, age: String, fresh: Bool) async throws {
        try await CoordinationRig.with(databases: 2) { rig in
            let (first, second) = (rig.coordinators[0], rig.coordinators[1])
            let quota = QuotaID(project: "film-learn", model: Self.quota.model)
            try await first.learn(quota, perMinute: perMinute)
            try await first.learn(quota, perMinute: replacedBy)
            let asked = ContinuousClock.now
            let learned = try await second.grant(quota, spacing: .milliseconds(1))
            #expect(learned == QuotaGrantReply(.start(after: .zero), learnedLimit: replacedBy))
            // 60 s ÷ 4 or 6 per minute is 15 or 10 s, far more than the 1 s lead: the next is a wait.
            guard case .wait(let wait) = try await first.grant(quota, spacing: .milliseconds(1)).grant else {
                Issue.record("a second start within the learned spacing was granted")
                return
            }
            // Less by as long as the two grants took apart (a loaded machine), never more.
            let between = ContinuousClock.now - asked
            let spacing = Duration.seconds(60 / replacedBy)
            #expect(wait >= spacing - .seconds(1) - between && wait <= spacing - .seconds(1), "\(wait), \(between) between the grants")
            let otherModel = QuotaID(project: quota.project, model: "gemini-3-pro-image")
            #expect(try await second.grant(otherModel, spacing: .milliseconds(1)) == QuotaGrantReply(.start(after: .zero)))

            // Aged: the row as it would be after `age` without a new statement.
            try await rig.databases[0].withConnection { connection in
                try await connection.query(
                    "UPDATE imagegen_quota SET learned_at = clock_timestamp() - \(age)::interval, tat = NULL WHERE project = \(quota.project)")
            }
            let first1 = try await second.grant(quota, spacing: .milliseconds(1))
            let next = try await second.grant(quota, spacing: .milliseconds(1))
            #expect(first1.learnedLimit == (fresh ? replacedBy : nil) && next.learnedLimit == first1.learnedLimit)
            if fresh {
                guard case .wait = next.grant else { Issue.record("a fresh limit paced nothing: \(next)"); return }
            } else {
                guard case .start(let after) = next.grant, after <= .milliseconds(1) else { Issue.record("a stale limit paced: \(next)"); return }
            }
        }
    }

    /// A server of the previous schema version (still running during a rolling upgrade) calls the
    /// grant of version 1, which the migration keeps: it still takes its turn on the row.
    @Test func thePreviousGrantStillAnswersAfterTheMigration() async throws {
        try await CoordinationRig.with(databases: 1) { rig in
            let rows = try await rig.databases[0].withConnection { connection in
                try await connection.query("SELECT kind FROM imagegen_grant('film-old', 'm', 10000000, 1000000)").map { try $0.decode(String.self) }
            }
            #expect(rows == ["start"])
            let next = try await rig.coordinators[0].grant(QuotaID(project: "film-old", model: "m"), spacing: .milliseconds(1))
            guard case .wait = next.grant else { Issue.record("the old grant's spacing was not kept: \(next)"); return }
        }
    }

    /// Servers that start at once on a new database apply each migration once; a database whose
    /// schema is newer than the server's is refused with a message that says so.
    @Test func migrationsRunOnceAndANewerSchemaIsRefused() async throws {
        try await PostgresCluster.with { cluster in
            let settings = try CoordinationRig.settings(cluster)
            let databases = (0..<4).map { _ in CoordinationDatabase(settings: settings, logger: CoordinationRig.logger) }
            try await CoordinationDatabase.whileRunning(databases) {
                for database in databases { try await CoordinationRig.waitUntilAvailable(database) }
                let versions = try await databases[0].withConnection { connection in
                    try await connection.query("SELECT version FROM imagegen_schema ORDER BY version").map { try $0.decode(Int.self) }
                }
                #expect(versions == [1, 2, 3, 4, 5])
                try await databases[0].withConnection { connection in
                    try await connection.query("INSERT INTO imagegen_schema (version) VALUES (99)")
                }
            }
            let newer = CoordinationDatabase(settings: settings, logger: CoordinationRig.logger)
            try await CoordinationDatabase.whileRunning([newer]) {
                let deadline = ContinuousClock.now + .seconds(20)
                while true {
                    do throws(CoordinationUnavailable) {
                        try await newer.withConnection { _ in }
                        Issue.record("a server used a database with a newer schema")
                        return
                    } catch {
                        if error.reason.contains("schema version 99, newer than this server's 5") { return }
                        #expect(ContinuousClock.now < deadline, "last: \(error.reason)")
                        if ContinuousClock.now >= deadline { return }
                    }
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
        }
    }

    /// Statements sent while the server ends the connection under them all end (failed, or
    /// answered before it closed): none waits forever on the closed connection, and the server
    /// connects again. Twenty rounds of eight askers each; in each, once the askers have had
    /// eight answers (so statements are flowing), another session's `pg_terminate_backend`
    /// kills the connection under them.
    @Test func statementsSentAsTheConnectionIsKilledAllEnd() async throws {
        try await CoordinationRig.with(databases: 2) { rig in
            let (victim, killer) = (rig.databases[0], rig.databases[1])
            for round in 1...20 {
                let pid = try #require(try await Self.backendPID(of: victim))
                let answers = AnswerCount()
                let failed = try await withThrowingTaskGroup(of: Bool.self) { group in
                    for _ in 0..<8 {
                        group.addTask {
                            // Until the connection is gone (bounded: the kill comes within ms).
                            let end = ContinuousClock.now + .seconds(10)
                            while ContinuousClock.now < end {
                                do throws(CoordinationUnavailable) {
                                    try await victim.withConnection { try await $0.query("SELECT 1") }
                                    answers.add()
                                } catch {
                                    return true
                                }
                            }
                            return false
                        }
                    }
                    group.addTask {
                        try await answers.wait(atLeast: 8)
                        try await Task.sleep(for: .microseconds(Int.random(in: 0...2_000)))
                        try await killer.withConnection { try await $0.query("SELECT pg_terminate_backend(\(pid))") }
                        return false
                    }
                    return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
                }
                // The kill came while statements were flowing, so some asker saw it fail (the
                // others may have been between statements and found the new connection).
                #expect(failed >= 1, "round \(round): no asker saw the killed connection fail")
            }
        }
    }

    /// How many statements the askers of a round had answered.
    final class AnswerCount: Sendable {
        private let count = Mutex(0)

        func add() { count.withLock { $0 += 1 } }

        /// Returns once `atLeast` answers came (within 10 s: the askers answer in milliseconds).
        func wait(atLeast: Int) async throws {
            let deadline = ContinuousClock.now + .seconds(10)
            while count.withLock({ $0 }) < atLeast {
                guard ContinuousClock.now < deadline else {
                    Issue.record("only \(count.withLock { $0 }) answers within 10 s")
                    return
                }
                try await Task.sleep(for: .milliseconds(1))
            }
        }
    }

    /// The server process of `database`'s connection, once it is connected (again).
    static func backendPID(of database: CoordinationDatabase) async throws -> Int32? {
        let deadline = ContinuousClock.now + .seconds(20)
        while true {
            try await CoordinationRig.waitUntilAvailable(database)
            do throws(CoordinationUnavailable) {
                return try await database.withConnection { try await $0.query("SELECT pg_backend_pid()").first?.decode(Int32.self) }
            } catch {
                // The connection of the round before closed under it; the next one is coming.
                guard ContinuousClock.now < deadline else { throw error }
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// With the database stopped, a grant fails at once with a reason that names the database
    /// (never a start); once it is back, grants are answered again through a new connection. The
    /// observer (the server's metrics) is told each step: connected, the grants and failures,
    /// the connection lost and made again.
    @Test func anUnreachableDatabaseGrantsNothingUntilItIsBack() async throws {
        try await CoordinationRig.with(databases: 1) { rig in
            let coordinator = rig.coordinators[0]
            #expect(try await coordinator.grant(Self.quota, spacing: .milliseconds(1)).grant == .start(after: .zero))
            try await rig.cluster.stop()
            let failed = ContinuousClock.now
            while true {
                do throws(CoordinationUnavailable) {
                    let grant = try await coordinator.grant(Self.quota, spacing: .milliseconds(1)).grant
                    // Only before the server noticed the closed connection could it answer, and then not at all.
                    Issue.record("a stopped database granted \(grant)")
                    return
                } catch {
                    #expect(error.reason.contains("127.0.0.1:\(rig.cluster.port)"), "\(error.reason)")
                    if !rig.databases[0].isAvailable { break }
                }
                #expect(ContinuousClock.now - failed < .seconds(10))
                try await Task.sleep(for: .milliseconds(10))
            }
            try await rig.cluster.resume()
            try await CoordinationRig.waitUntilAvailable(rig.databases[0])
            let grant = try await coordinator.grant(Self.quota, spacing: .milliseconds(1)).grant
            guard case .start = grant else {
                Issue.record("after the database came back: \(grant)")
                return
            }
            Self.expectObserved(rig.recorders[0].told, last: grant)
            #expect(rig.recorders[0].sentDurations.allSatisfy { $0 > .zero && $0 < .seconds(10) }, "\(rig.recorders[0].sentDurations)")
        }
    }

    /// What the observer of `anUnreachableDatabaseGrantsNothingUntilItIsBack` was told, in order:
    /// connecting, connected, a granted start; while the database is away only failed grants
    /// (at least one) and the connection lost; connected again, and the `last` grant.
    static func expectObserved(_ told: [CoordinationRecorder.Entry], last: QuotaGrant) {
        typealias Entry = CoordinationRecorder.Entry
        let start: [Entry] = [.connection(available: false), .connection(available: true), .statement(.grant, nil), .granted(.start(after: .zero))]
        let end: [Entry] = [.connection(available: true), .statement(.grant, nil), .granted(last)]
        guard told.count > start.count + end.count, Array(told.prefix(start.count)) == start, Array(told.suffix(end.count)) == end else {
            Issue.record("observed: \(told)")
            return
        }
        let away = told.dropFirst(start.count).dropLast(end.count)
        #expect(away.contains(.connection(available: false)), "\(away)")
        #expect(away.contains { if case .statement(.grant, _?) = $0 { true } else { false } }, "\(away)")
        #expect(away.allSatisfy { entry in
            switch entry {
            case .connection(available: false), .statement(.grant, _?): true
            default: false
            }
        }, "while away: \(away)")
    }
}
