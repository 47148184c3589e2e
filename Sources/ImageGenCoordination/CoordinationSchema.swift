import Logging
import PostgresNIO

/// The coordination database's tables, created and migrated by the servers themselves: numbered
/// migrations, each applied once, in order, in one transaction under an advisory lock, so
/// servers that start at once apply each migration exactly once. A database whose schema is newer
/// than this server knows is refused (the server is older than another that migrated it).
enum CoordinationSchema {
    /// One step of the schema: its statements run in order, in one transaction.
    struct Migration {
        let version: Int
        let statements: [String]
    }

    /// Held (per transaction) while a server migrates: "imagegen" in ASCII.
    static let migrationLock: Int64 = 0x696D_6167_6567_656E

    static var latestVersion: Int { migrations.last?.version ?? 0 }

    static let migrations: [Migration] = [
        Migration(version: 1, statements: [
            // One row per quota (Google Cloud project and model): the theoretical arrival time of
            // the next start (GCRA), the cool-down after a 429, the spent daily quota.
            """
            CREATE TABLE imagegen_quota (
                project text NOT NULL,
                model text NOT NULL,
                tat timestamptz,
                cool_until timestamptz,
                spent_until timestamptz,
                spent_reason text,
                PRIMARY KEY (project, model)
            )
            """,
            grantFunction,
        ]),
        Migration(version: 2, statements: [
            // One row per project a job was started on (the project folder relative to the shared
            // projects root): the job that owns it, the server that runs that job, until when
            // (renewed by the server's heartbeat), and enough to resume the job elsewhere.
            """
            CREATE TABLE imagegen_job_lease (
                project text PRIMARY KEY,
                job_id text NOT NULL,
                owner text NOT NULL,
                request bytea NOT NULL,
                seq_reserved_through bigint NOT NULL,
                expires_at timestamptz NOT NULL,
                finished boolean NOT NULL DEFAULT false
            )
            """,
            "CREATE INDEX imagegen_job_lease_job ON imagegen_job_lease (job_id)",
            "CREATE INDEX imagegen_job_lease_expiry ON imagegen_job_lease (expires_at) WHERE NOT finished",
        ]),
        Migration(version: 3, statements: [
            // One row per server id: the address its clients reach it at (so that another server
            // can forward a call for a job it runs), and when its heartbeat last said so.
            "CREATE TABLE imagegen_server (id text PRIMARY KEY, address text, seen_at timestamptz NOT NULL)",
        ]),
        Migration(version: 4, statements: [
            // The per-minute limit a 429 stated for the quota (to any server), and when. The grant
            // of version 1 stays for servers of version 3 still running during a rolling upgrade.
            "ALTER TABLE imagegen_quota ADD COLUMN learned_per_minute double precision, ADD COLUMN learned_at timestamptz",
            learningGrantFunction,
        ]),
        Migration(version: 5, statements: [
            // The process that holds the server id (a token it made at start) and until when
            // (its heartbeat extends it by its lease duration), so that a second process started
            // with the same id is refused while the first one's heartbeat goes on; NULL once it
            // shut down.
            "ALTER TABLE imagegen_server ADD COLUMN instance text, ADD COLUMN held_until timestamptz",
        ]),
    ]

    /// Grants a start of a quota or says how long to wait, in one statement: the row is locked,
    /// the database's clock read after the lock. A start is reserved only within `lead_us` of
    /// now (so a waiting server does not hold a start it may never take); later, the caller is
    /// told to ask again `lead_us` before its turn. Delays are microseconds from the database's now;
    /// a start's `until` is the start it reserved, on the database's clock.
    static let grantFunction = """
        CREATE FUNCTION imagegen_grant(p_project text, p_model text, p_spacing_us bigint, p_lead_us bigint)
        RETURNS TABLE (kind text, delay_us bigint, until timestamptz, reason text)
        LANGUAGE plpgsql AS $fn$
        DECLARE
            q imagegen_quota%ROWTYPE;
            now_ts timestamptz;
            start_ts timestamptz;
            wait_us bigint;
        BEGIN
            INSERT INTO imagegen_quota (project, model) VALUES (p_project, p_model) ON CONFLICT DO NOTHING;
            SELECT * INTO q FROM imagegen_quota WHERE project = p_project AND model = p_model FOR UPDATE;
            now_ts := clock_timestamp();
            IF q.spent_until > now_ts THEN
                RETURN QUERY SELECT 'spent'::text, 0::bigint, q.spent_until, q.spent_reason;
                RETURN;
            END IF;
            IF q.cool_until > now_ts THEN
                RETURN QUERY SELECT 'cooling'::text,
                    ceil(extract(epoch FROM q.cool_until - now_ts) * 1000000)::bigint, NULL::timestamptz, NULL::text;
                RETURN;
            END IF;
            start_ts := greatest(coalesce(q.tat, now_ts), now_ts);
            wait_us := ceil(extract(epoch FROM start_ts - now_ts) * 1000000)::bigint;
            IF wait_us > p_lead_us THEN
                RETURN QUERY SELECT 'wait'::text, wait_us - p_lead_us, NULL::timestamptz, NULL::text;
                RETURN;
            END IF;
            UPDATE imagegen_quota SET tat = start_ts + p_spacing_us * interval '1 microsecond'
                WHERE project = p_project AND model = p_model;
            RETURN QUERY SELECT 'start'::text, wait_us, start_ts, NULL::text;
        END
        $fn$
        """

    /// ``grantFunction`` that also spaces starts at least at the quota's learned limit while it is
    /// fresh (learned within `p_fresh_us`), and answers it (NULL when none is fresh).
    static let learningGrantFunction = """
        CREATE FUNCTION imagegen_grant(p_project text, p_model text, p_spacing_us bigint, p_lead_us bigint, p_fresh_us bigint)
        RETURNS TABLE (kind text, delay_us bigint, until timestamptz, reason text, learned_per_minute double precision)
        LANGUAGE plpgsql AS $fn$
        DECLARE
            q imagegen_quota%ROWTYPE;
            now_ts timestamptz;
            start_ts timestamptz;
            wait_us bigint;
            learned double precision;
            spacing_us bigint := p_spacing_us;
        BEGIN
            INSERT INTO imagegen_quota (project, model) VALUES (p_project, p_model) ON CONFLICT DO NOTHING;
            SELECT * INTO q FROM imagegen_quota WHERE project = p_project AND model = p_model FOR UPDATE;
            now_ts := clock_timestamp();
            IF q.learned_per_minute > 0 AND q.learned_at > now_ts - p_fresh_us * interval '1 microsecond' THEN
                learned := q.learned_per_minute;
                spacing_us := greatest(p_spacing_us, ceil(60000000 / learned)::bigint);
            END IF;
            IF q.spent_until > now_ts THEN
                RETURN QUERY SELECT 'spent'::text, 0::bigint, q.spent_until, q.spent_reason, learned;
                RETURN;
            END IF;
            IF q.cool_until > now_ts THEN
                RETURN QUERY SELECT 'cooling'::text,
                    ceil(extract(epoch FROM q.cool_until - now_ts) * 1000000)::bigint, NULL::timestamptz, NULL::text, learned;
                RETURN;
            END IF;
            start_ts := greatest(coalesce(q.tat, now_ts), now_ts);
            wait_us := ceil(extract(epoch FROM start_ts - now_ts) * 1000000)::bigint;
            IF wait_us > p_lead_us THEN
                RETURN QUERY SELECT 'wait'::text, wait_us - p_lead_us, NULL::timestamptz, NULL::text, learned;
                RETURN;
            END IF;
            UPDATE imagegen_quota SET tat = start_ts + spacing_us * interval '1 microsecond'
                WHERE project = p_project AND model = p_model;
            RETURN QUERY SELECT 'start'::text, wait_us, start_ts, NULL::text, learned;
        END
        $fn$
        """

    /// Brings the database to ``latestVersion``; throws ``CoordinationSchemaError`` when it is newer.
    static func migrate(_ connection: CoordinationConnection, logger: Logger) async throws {
        try await connection.transaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(migrationLock))")
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS imagegen_schema (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())")
            let rows = try await connection.query("SELECT coalesce(max(version), 0) FROM imagegen_schema")
            let current = try rows.first?.decode(Int.self) ?? 0
            guard current <= latestVersion else {
                throw CoordinationSchemaError(
                    message: "the coordination database has schema version \(current), newer than this server's \(latestVersion): upgrade this server")
            }
            for migration in migrations where migration.version > current {
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement))
                }
                try await connection.query("INSERT INTO imagegen_schema (version) VALUES (\(migration.version))")
                logger.info("coordination: schema migrated to version \(migration.version)")
            }
        }
    }
}
