public import Foundation
public import ImageGenEngine
import PostgresNIO

/// Shares every quota through the coordination database (``CoordinationSchema``): each request
/// start is granted by one atomic update of the quota's row, so the servers that share the
/// database together start no more requests than one server pacing alone would; cool-downs,
/// learned limits and spent daily quotas found by one server hold for all, a later cool-down
/// never shortened by an earlier one. A 429 or a spent daily quota one server records is told
/// to the others at once (``HeardRefusals``), so that a start they reserved ahead does not go.
public struct PostgresQuotaCoordinator: QuotaCoordinator {
    private let database: CoordinationDatabase
    private let heard = HeardRefusals()

    /// The coordinator of `database`'s quotas: make one per database (each listens on it).
    public init(database: CoordinationDatabase) {
        self.database = database
        database.listen(on: HeardRefusals.channel) { [heard] payload in heard.note(payload) }
    }

    /// How far ahead of now a start is reserved: a second. Every request waiting for a fast quota
    /// then holds its start and asks once (three spacings made the waiting requests of three
    /// servers ask six times per start, and a loaded database's late answers left turns unused);
    /// a slow quota's request is told to ask again a second before its turn, so that it is back
    /// (through timer and round-trip delays) before the turn is due. A start reserved by a request
    /// that then does not go (its job cancelled, its server dead) is at most a second of the quota.
    static let lead: Duration = .seconds(1)

    /// How long a learned limit paces every server: as long as a server trusts its own.
    static let freshness: Duration = .seconds(LearnedLimits.freshness)

    public func grant(_ quota: QuotaID, spacing: Duration) async throws(CoordinationUnavailable) -> QuotaGrantReply {
        let spacingUS = max(spacing, .zero).wholeMicroseconds
        let leadUS = Self.lead.wholeMicroseconds
        let freshUS = Self.freshness.wholeMicroseconds
        let row = try await database.withConnection(.grant) { connection in
            let rows = try await connection.query(
                """
                SELECT kind, delay_us, until, reason, learned_per_minute
                FROM imagegen_grant(\(quota.project), \(quota.model), \(spacingUS), \(leadUS), \(freshUS))
                """)
            guard let answer = try rows.first?.decode((String, Int64, Date?, String?, Double?).self) else {
                throw CoordinationSchemaError(message: "imagegen_grant returned no row")
            }
            return GrantRow(kind: answer.0, delayUS: answer.1, until: answer.2, reason: answer.3, learned: answer.4)
        }
        let reply = QuotaGrantReply(try row.grant(), learnedLimit: row.learned.flatMap { $0 > 0 && $0.isFinite ? $0 : nil })
        database.observer?.granted(reply.grant)
        return reply
    }

    /// Withdrawn once the server sees the connection lost (a start reserved before the database
    /// went away does not go), also when it was made again since the start was asked for (what
    /// was notified meanwhile was not heard), and while a cool-down or spent daily quota another
    /// server told of lasts.
    public func withdrawal(ofStartFor quota: QuotaID, askedAt asked: ContinuousClock.Instant) -> StartWithdrawal? {
        let withdrawal: StartWithdrawal?
        switch database.connectedSince {
        case let since? where since <= asked:
            withdrawal = heard.withdrawal(ofStartFor: quota)
        case _?:
            withdrawal = .unavailable(CoordinationUnavailable(reason: "the connection to the coordination database was made again since the start was reserved"))
        case nil:
            // Closed, perhaps before the connection loop has heard of it and put it in words.
            let reason = database.problem ?? "the coordination database cannot be used: the connection to \(database.settings.endpoint) closed"
            withdrawal = .unavailable(CoordinationUnavailable(reason: reason))
        }
        if let withdrawal { database.observer?.withdrew(withdrawal) }
        return withdrawal
    }

    public func learn(_ quota: QuotaID, perMinute: Double) async throws(CoordinationUnavailable) {
        guard perMinute > 0, perMinute.isFinite else { return }
        try await database.withConnection(.learn) { connection in
            try await connection.query(
                """
                INSERT INTO imagegen_quota AS q (project, model, learned_per_minute, learned_at)
                VALUES (\(quota.project), \(quota.model), \(perMinute), clock_timestamp())
                ON CONFLICT (project, model) DO UPDATE SET
                    learned_per_minute = EXCLUDED.learned_per_minute, learned_at = EXCLUDED.learned_at
                """)
        }
    }

    public func cool(_ quota: QuotaID, for delay: Duration) async throws(CoordinationUnavailable) {
        let delayUS = max(delay, .zero).wholeMicroseconds
        try await database.withConnection(.cool) { connection in
            try await connection.query(
                """
                WITH cooled AS (
                    INSERT INTO imagegen_quota AS q (project, model, cool_until)
                    VALUES (\(quota.project), \(quota.model), clock_timestamp() + \(delayUS) * interval '1 microsecond')
                    ON CONFLICT (project, model) DO UPDATE SET cool_until = greatest(q.cool_until, EXCLUDED.cool_until)
                    RETURNING project, model, cool_until
                )
                SELECT pg_notify(\(HeardRefusals.channel), payload)
                FROM (SELECT json_build_object(
                    'project', project, 'model', model, 'kind', 'cooling',
                    'remaining_us', (extract(epoch FROM cool_until - clock_timestamp()) * 1000000)::bigint)::text AS payload
                    FROM cooled) notice
                WHERE octet_length(payload) < \(HeardRefusals.largestPayload)
                """)
        }
    }

    public func markDailyQuotaSpent(_ quota: QuotaID, until: Date, reason: String) async throws(CoordinationUnavailable) {
        let reason = String(reason.prefix(500))
        try await database.withConnection(.markSpent) { connection in
            try await connection.query(
                """
                WITH spent AS (
                    INSERT INTO imagegen_quota AS q (project, model, spent_until, spent_reason)
                    VALUES (\(quota.project), \(quota.model), \(until), \(reason))
                    ON CONFLICT (project, model) DO UPDATE SET
                        spent_reason = CASE WHEN q.spent_until IS NULL OR EXCLUDED.spent_until > q.spent_until
                            THEN EXCLUDED.spent_reason ELSE q.spent_reason END,
                        spent_until = greatest(q.spent_until, EXCLUDED.spent_until)
                    RETURNING project, model, spent_until, spent_reason
                )
                SELECT pg_notify(\(HeardRefusals.channel), payload)
                FROM (SELECT json_build_object(
                    'project', project, 'model', model, 'kind', 'spent',
                    'until', extract(epoch FROM spent_until), 'reason', left(spent_reason, 200))::text AS payload
                    FROM spent) notice
                WHERE octet_length(payload) < \(HeardRefusals.largestPayload)
                """)
        }
    }

    /// One answer of `imagegen_grant`.
    private struct GrantRow: Sendable {
        let kind: String
        let delayUS: Int64
        let until: Date?
        let reason: String?
        let learned: Double?

        func grant() throws(CoordinationUnavailable) -> QuotaGrant {
            let delay = Duration.microseconds(max(0, delayUS))
            switch kind {
            case "start": return .start(after: delay)
            case "wait": return .wait(delay)
            case "cooling": return .cooling(delay)
            case "spent": return .dailyQuotaSpent(until: until ?? Date(), reason: reason ?? "daily quota exhausted")
            default: throw CoordinationUnavailable(reason: "imagegen_grant answered an unknown kind \"\(kind.prefix(40))\"")
            }
        }
    }
}
