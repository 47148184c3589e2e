import Foundation
public import ImageGenEngine
import PostgresNIO

/// Keeps job leases in the coordination database (``CoordinationSchema``, table
/// `imagegen_job_lease`, one row per project): each claim, renewal and take-over is one
/// statement, timed by the database's clock, so servers whose clocks differ agree on expiry.
public struct PostgresJobLeases: JobLeases {
    private let database: CoordinationDatabase

    public init(database: CoordinationDatabase) {
        self.database = database
    }

    public func claim(_ lease: JobLease, resuming: Bool, for duration: Duration) async throws(CoordinationUnavailable) -> JobLeaseClaim {
        // A holder found by the second statement may have expired or finished in between: ask again.
        for _ in 0..<3 {
            if let seq = try await insertOrTake(lease, resuming: resuming, for: duration) { return .claimed(seqReservedThrough: seq) }
            // Resuming, any row of the project refuses (another job, this job finished or taken
            // over); starting, only a live lease does.
            let holder = resuming ? try await anyLease(ofProject: lease.project) : try await self.lease(ofProject: lease.project)
            if let holder { return .held(holder) }
        }
        throw CoordinationUnavailable(reason: "the lease of project \"\(lease.project.prefix(200))\" changed hands three times while it was claimed")
    }

    /// The claim's one statement: inserts the lease, or takes the project's row when it allows
    /// (see ``JobLeases/claim(_:resuming:for:)``). Returns the highest seq recorded, nil when it
    /// does not allow.
    private func insertOrTake(_ lease: JobLease, resuming: Bool, for duration: Duration) async throws(CoordinationUnavailable) -> UInt64? {
        let durationUS = max(duration, .zero).wholeMicroseconds
        let seq = Int64(clamping: lease.seqReservedThrough)
        return try await database.withConnection(.claimLease) { connection in
            try await connection.query(
                """
                INSERT INTO imagegen_job_lease AS l (project, job_id, owner, request, seq_reserved_through, expires_at)
                VALUES (\(lease.project), \(lease.jobID), \(lease.owner), \(lease.request), \(seq),
                    clock_timestamp() + \(durationUS) * interval '1 microsecond')
                ON CONFLICT (project) DO UPDATE SET
                    seq_reserved_through = CASE WHEN l.job_id = EXCLUDED.job_id
                        THEN greatest(l.seq_reserved_through, EXCLUDED.seq_reserved_through)
                        ELSE EXCLUDED.seq_reserved_through END,
                    job_id = EXCLUDED.job_id, owner = EXCLUDED.owner, request = EXCLUDED.request,
                    expires_at = EXCLUDED.expires_at, finished = false
                WHERE CASE WHEN \(resuming)
                    THEN l.job_id = EXCLUDED.job_id AND NOT l.finished
                        AND (l.owner = EXCLUDED.owner OR l.expires_at <= clock_timestamp())
                    ELSE l.finished OR l.expires_at <= clock_timestamp() OR l.owner = EXCLUDED.owner END
                RETURNING seq_reserved_through
                """
            ).first.map { row in UInt64(clamping: try row.decode(Int64.self)) }
        }
    }

    public func renew(owner: String, seqs: [String: UInt64], for duration: Duration) async throws(CoordinationUnavailable) -> [String: UInt64] {
        guard !seqs.isEmpty else { return [:] }
        let ids = Array(seqs.keys)
        let bounds = ids.map { Int64(clamping: seqs[$0] ?? 0) }
        let durationUS = max(duration, .zero).wholeMicroseconds
        return try await database.withConnection(.renewLeases) { connection in
            let rows = try await connection.query(
                """
                UPDATE imagegen_job_lease AS l SET
                    expires_at = clock_timestamp() + \(durationUS) * interval '1 microsecond',
                    seq_reserved_through = greatest(l.seq_reserved_through, s.seq)
                FROM unnest(\(ids)::text[], \(bounds)::bigint[]) AS s(job_id, seq)
                WHERE l.job_id = s.job_id AND l.owner = \(owner) AND NOT l.finished
                RETURNING l.job_id, l.seq_reserved_through
                """)
            var held: [String: UInt64] = [:]
            for row in rows {
                let (id, seq) = try row.decode((String, Int64).self)
                held[id] = UInt64(clamping: seq)
            }
            return held
        }
    }

    public func release(jobID: String, owner: String, finished: Bool) async throws(CoordinationUnavailable) {
        try await database.withConnection(.releaseLease) { connection in
            try await connection.query(
                """
                UPDATE imagegen_job_lease SET finished = \(finished), expires_at = clock_timestamp()
                WHERE job_id = \(jobID) AND owner = \(owner) AND NOT finished
                """)
        }
    }

    public func takeExpired(owner: String, for duration: Duration, limit: Int) async throws(CoordinationUnavailable) -> [JobLease] {
        let durationUS = max(duration, .zero).wholeMicroseconds
        let limit = max(0, limit)
        return try await database.withConnection(.takeExpired) { connection in
            try await connection.query(
                """
                UPDATE imagegen_job_lease AS l SET owner = \(owner),
                    expires_at = clock_timestamp() + \(durationUS) * interval '1 microsecond'
                WHERE l.project IN (
                    SELECT project FROM imagegen_job_lease
                    WHERE NOT finished AND expires_at <= clock_timestamp()
                    ORDER BY expires_at LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                RETURNING \(unescaped: Self.columns)
                """
            ).map(Self.lease)
        }
    }

    public func lease(ofJob jobID: String) async throws(CoordinationUnavailable) -> JobLease? {
        try await database.withConnection(.readLease) { connection in
            try await connection.query(
                "SELECT \(unescaped: Self.columns) FROM imagegen_job_lease l WHERE l.job_id = \(jobID) ORDER BY l.expires_at DESC LIMIT 1"
            ).first.map(Self.lease)
        }
    }

    public func lease(ofProject project: String) async throws(CoordinationUnavailable) -> JobLease? {
        try await database.withConnection(.readLease) { connection in
            try await connection.query(
                """
                SELECT \(unescaped: Self.columns) FROM imagegen_job_lease l
                WHERE l.project = \(project) AND NOT l.finished AND l.expires_at > clock_timestamp()
                """
            ).first.map(Self.lease)
        }
    }

    /// The project's row, live or not.
    private func anyLease(ofProject project: String) async throws(CoordinationUnavailable) -> JobLease? {
        try await database.withConnection(.readLease) { connection in
            try await connection.query(
                "SELECT \(unescaped: Self.columns) FROM imagegen_job_lease l WHERE l.project = \(project)"
            ).first.map(Self.lease)
        }
    }

    public func register(
        server: String, instance: String, address: String?, holdFor: Duration
    ) async throws(CoordinationUnavailable) -> ServerRegistration {
        let holdUS = max(holdFor, .zero).wholeMicroseconds
        return try await database.withConnection(.register) { connection in
            // The row of another instance whose hold has not lapsed is left alone; the second
            // branch then reads it (its snapshot may miss a row inserted or renewed a moment ago:
            // then it answers no row, or the row as it was, and the next try says more).
            let rows = try await connection.query(
                """
                WITH taken AS (
                    INSERT INTO imagegen_server AS s (id, address, seen_at, instance, held_until)
                    VALUES (\(server), \(address), clock_timestamp(), \(instance),
                        clock_timestamp() + \(holdUS) * interval '1 microsecond')
                    ON CONFLICT (id) DO UPDATE SET address = EXCLUDED.address, seen_at = EXCLUDED.seen_at,
                        instance = EXCLUDED.instance, held_until = EXCLUDED.held_until
                    WHERE s.instance IS NULL OR s.instance = EXCLUDED.instance
                        OR s.held_until IS NULL OR s.held_until <= clock_timestamp()
                    RETURNING true)
                SELECT true, NULL::text, NULL::bigint, NULL::bigint FROM taken
                UNION ALL
                SELECT false, s.address, (extract(epoch FROM clock_timestamp() - s.seen_at) * 1000000)::bigint,
                    (extract(epoch FROM s.held_until - clock_timestamp()) * 1000000)::bigint
                FROM imagegen_server s WHERE s.id = \(server) AND NOT EXISTS (SELECT 1 FROM taken)
                """)
            guard let row = rows.first else { return .heldByAnother(address: nil, seenAgo: .zero, heldFor: holdFor) }
            let (registered, holderAddress, agoUS, leftUS) = try row.decode((Bool, String?, Int64?, Int64?).self)
            if registered { return .registered }
            return .heldByAnother(
                address: holderAddress, seenAgo: .microseconds(max(0, agoUS ?? 0)), heldFor: .microseconds(max(0, leftUS ?? 0)))
        }
    }

    public func unregister(server: String, instance: String) async throws(CoordinationUnavailable) {
        try await database.withConnection(.unregister) { connection in
            try await connection.query("UPDATE imagegen_server SET instance = NULL WHERE id = \(server) AND instance = \(instance)")
        }
    }

    public func servers(seenWithin window: Duration, limit: Int) async throws(CoordinationUnavailable) -> [ServerRecord] {
        let windowUS = max(window, .zero).wholeMicroseconds
        let limit = max(0, limit)
        return try await database.withConnection(.listServers) { connection in
            // Registered servers seen lately, and the owners of unfinished leases (registered or not).
            let servers = try await connection.query(
                """
                SELECT o.id, s.address, s.seen_at FROM (
                    SELECT id FROM imagegen_server WHERE seen_at > clock_timestamp() - \(windowUS) * interval '1 microsecond'
                    UNION SELECT owner FROM imagegen_job_lease WHERE NOT finished) AS o
                LEFT JOIN imagegen_server s ON s.id = o.id
                ORDER BY o.id LIMIT \(limit)
                """
            ).map { row in try row.decode((String, String?, Date?).self) }
            guard !servers.isEmpty else { return [] }
            let ids = servers.map(\.0)
            let leases = try await connection.query(
                """
                SELECT \(unescaped: Self.columns) FROM imagegen_job_lease l
                WHERE NOT l.finished AND l.owner = ANY(\(ids)::text[]) ORDER BY l.project
                """
            ).map(Self.lease)
            let jobs = Dictionary(grouping: leases, by: \.owner)
            return servers.map { id, address, seenAt in
                ServerRecord(id: id, address: address, seenAt: seenAt, jobs: jobs[id] ?? [])
            }
        }
    }

    /// A lease row's columns, from `imagegen_job_lease l`, with the owner's address.
    static let columns = ["project", "job_id", "owner", "request", "seq_reserved_through", "expires_at", "finished"]
        .map { "l." + $0 }.joined(separator: ", ") + ", (SELECT s.address FROM imagegen_server s WHERE s.id = l.owner)"

    static func lease(_ row: PostgresRow) throws -> JobLease {
        let (project, jobID, owner, request, seq, expiresAt, finished, address) = try row.decode(
            (String, String, String, Data, Int64, Date, Bool, String?).self)
        return JobLease(
            project: project, jobID: jobID, owner: owner, request: request, seqReservedThrough: UInt64(clamping: seq),
            expiresAt: expiresAt, finished: finished, ownerAddress: address)
    }
}
