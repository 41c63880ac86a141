import Foundation

/// The ledger's schema: numbered migrations, applied in order when a store opens and recorded in
/// `schema_migrations`, so each runs once per database however many nodes start at the same time.
///
/// A migration is never edited after release: a change is a new migration at the end. DDL is written
/// once for both databases with type words that each backend spells its own way:
/// `{id}` an auto-numbered primary key, `{time}` an instant (SQLite: integer microseconds since 1970;
/// PostgreSQL: TIMESTAMPTZ), `{money}` an exact amount (SQLite: decimal text; PostgreSQL: NUMERIC),
/// `{json}` a JSON document (SQLite: TEXT; PostgreSQL: JSONB), `{bool}`, `{bigint}`.
enum Schema {
    struct Migration: Sendable {
        let version: Int
        let name: String
        let statements: [String]
    }

    static let migrations: [Migration] = [
        Migration(version: 1, name: "records, jobs, budgets", statements: version1),
        Migration(version: 2, name: "store identity", statements: version2),
    ]

    static var latestVersion: Int { migrations.last?.version ?? 0 }

    /// Advisory-lock key that serialises migrations across PostgreSQL nodes ("CKmigrat").
    static let migrationLock: Int64 = 0x434B_6D69_6772_6174

    /// Spells the type words of `statement` for `backend`.
    static func spell(_ statement: String, for backend: LedgerBackend) -> String {
        let words: [(String, String)] =
            switch backend {
            case .sqlite:
                [("{id}", "INTEGER PRIMARY KEY AUTOINCREMENT"), ("{time}", "INTEGER"), ("{money}", "TEXT"),
                 ("{json}", "TEXT"), ("{bool}", "INTEGER"), ("{bigint}", "INTEGER")]
            case .postgres:
                [("{id}", "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"), ("{time}", "TIMESTAMPTZ"),
                 ("{money}", "NUMERIC"), ("{json}", "JSONB"), ("{bool}", "BOOLEAN"), ("{bigint}", "BIGINT")]
            }
        return words.reduce(statement) { $0.replacingOccurrences(of: $1.0, with: $1.1) }
    }

    /// `store` once `prepare` succeeded; closed when it failed.
    static func prepared<Store: LedgerStore>(_ store: Store) async throws -> Store {
        do {
            try await prepare(store)
            return store
        } catch {
            try? await store.close()
            throw error
        }
    }

    /// Applies pending migrations (when `options.migrate`), then checks the database is at this
    /// build's version.
    /// - Throws: `LedgerError.schemaMismatch` when the database is newer than this build, a recorded
    ///   migration differs from this build's, or a migration fails.
    static func prepare(_ store: some LedgerStore) async throws {
        try await store.transaction { tx in
            if tx.backend == .postgres {
                try await tx.execute("SELECT 1 AS locked FROM (SELECT pg_advisory_xact_lock($1)) AS waited", [.int(migrationLock)])
            }
            try await tx.execute(spell("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version INTEGER PRIMARY KEY,
                    name TEXT NOT NULL,
                    applied_at {time} NOT NULL
                )
                """, for: tx.backend))
            let applied = try await appliedMigrations(tx)
            if let newest = applied.last, newest.version > latestVersion {
                throw LedgerError(
                    .schemaMismatch,
                    "the ledger \(store.location) is at schema version \(newest.version), newer than this build's "
                        + "\(latestVersion): upgrade clipkit")
            }
            for (version, name) in applied {
                guard let known = migrations.first(where: { $0.version == version }), known.name == name else {
                    throw LedgerError(
                        .schemaMismatch,
                        "the ledger \(store.location) records migration \(version) \"\(name)\", which this build does not have")
                }
            }
            let pending = migrations.filter { migration in !applied.contains { $0.version == migration.version } }
            guard !pending.isEmpty else { return }
            guard store.options.migrate else {
                throw LedgerError(
                    .schemaMismatch,
                    "the ledger \(store.location) is at schema version \(applied.last?.version ?? 0), this build needs "
                        + "\(latestVersion): open it with migrations on")
            }
            for migration in pending {
                for statement in migration.statements {
                    do {
                        try await tx.execute(spell(statement, for: tx.backend))
                    } catch {
                        throw LedgerError(
                            .schemaMismatch, "migration \(migration.version) (\(migration.name)) failed on \(store.location): \(error)")
                    }
                }
                try await tx.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                    [.int(Int64(migration.version)), .text(migration.name), .date(tx.now)])
            }
        }
    }

    static func appliedMigrations(_ tx: LedgerTransaction) async throws -> [(version: Int, name: String)] {
        try await tx.query("SELECT version, name FROM schema_migrations ORDER BY version").map {
            (try $0.int("version"), try $0.string("name"))
        }
    }

    static let version1: [String] = [
        // Clips: files under the data directory, with what the probe and the checks said about them.
        """
        CREATE TABLE clips (
            id TEXT PRIMARY KEY,
            path TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            byte_count {bigint} NOT NULL,
            source_url TEXT,
            task_id TEXT,
            probe {json} NOT NULL,
            verification {json},
            frames {json} NOT NULL,
            created_at {time} NOT NULL
        )
        """,
        "CREATE INDEX clips_sha256 ON clips (sha256)",
        "CREATE INDEX clips_created ON clips (created_at, id)",
        // Provider tasks: one row per submission. `request_key` makes a submission at-most-once: the row
        // is written before the provider is called, so a rerun finds it instead of submitting again.
        """
        CREATE TABLE provider_tasks (
            id TEXT PRIMARY KEY,
            request_key TEXT UNIQUE,
            provider TEXT NOT NULL,
            model TEXT NOT NULL,
            provider_task_id TEXT,
            endpoint TEXT,
            request {json},
            status TEXT,
            state TEXT NOT NULL,
            usage {json},
            billed_amount {money},
            billed_currency TEXT,
            output_url TEXT,
            clip_id TEXT REFERENCES clips (id),
            content_flagged {bool},
            error_code TEXT,
            error_message TEXT,
            chain_id TEXT,
            segment INTEGER,
            created_at {time} NOT NULL,
            updated_at {time} NOT NULL,
            UNIQUE (provider, provider_task_id)
        )
        """,
        "CREATE INDEX provider_tasks_state ON provider_tasks (state, updated_at)",
        "CREATE INDEX provider_tasks_created ON provider_tasks (created_at, id)",
        """
        CREATE TABLE task_status_changes (
            task_id TEXT NOT NULL REFERENCES provider_tasks (id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            status TEXT NOT NULL,
            state TEXT NOT NULL,
            changed_at {time} NOT NULL,
            PRIMARY KEY (task_id, seq)
        )
        """,
        // Attempts: the tries at one generation request (an API request, a chain segment), in order.
        """
        CREATE TABLE attempts (
            id TEXT PRIMARY KEY,
            request TEXT NOT NULL,
            number INTEGER NOT NULL,
            task_id TEXT REFERENCES provider_tasks (id),
            clip_id TEXT REFERENCES clips (id),
            outcome TEXT NOT NULL,
            reason TEXT,
            estimate_amount {money},
            estimate_currency TEXT,
            created_at {time} NOT NULL,
            updated_at {time} NOT NULL,
            UNIQUE (request, number)
        )
        """,
        // Webhook deliveries, deduplicated by the provider's webhook id; kept even when the task is unknown.
        """
        CREATE TABLE webhook_deliveries (
            id TEXT PRIMARY KEY,
            provider TEXT NOT NULL,
            webhook_id TEXT NOT NULL,
            provider_task_id TEXT,
            task_id TEXT,
            body TEXT NOT NULL,
            received_at {time} NOT NULL,
            processed_at {time},
            UNIQUE (provider, webhook_id)
        )
        """,
        "CREATE INDEX webhook_deliveries_task ON webhook_deliveries (provider, provider_task_id)",
        """
        CREATE TABLE audit_findings (
            id {id},
            batch TEXT NOT NULL,
            code TEXT NOT NULL,
            severity TEXT NOT NULL,
            provider TEXT,
            model TEXT,
            provider_task_id TEXT,
            clip TEXT,
            record {json},
            message TEXT NOT NULL,
            over_billed_amount {money},
            over_billed_currency TEXT,
            created_at {time} NOT NULL
        )
        """,
        "CREATE INDEX audit_findings_batch ON audit_findings (batch)",
        "CREATE INDEX audit_findings_task ON audit_findings (provider, provider_task_id)",
        """
        CREATE TABLE budgets (
            name TEXT PRIMARY KEY,
            currency TEXT NOT NULL,
            limit_amount {money} NOT NULL,
            reserved_amount {money} NOT NULL,
            spent_amount {money} NOT NULL,
            created_at {time} NOT NULL,
            updated_at {time} NOT NULL
        )
        """,
        """
        CREATE TABLE budget_reservations (
            id TEXT PRIMARY KEY,
            budget TEXT NOT NULL REFERENCES budgets (name),
            reference TEXT NOT NULL,
            currency TEXT NOT NULL,
            amount {money} NOT NULL,
            spent {money},
            state TEXT NOT NULL,
            created_at {time} NOT NULL,
            settled_at {time},
            UNIQUE (budget, reference)
        )
        """,
        """
        CREATE TABLE chains (
            id TEXT PRIMARY KEY,
            provider TEXT NOT NULL,
            storyboard {json} NOT NULL,
            budget TEXT REFERENCES budgets (name),
            state TEXT NOT NULL,
            output_path TEXT,
            report {json},
            created_at {time} NOT NULL,
            updated_at {time} NOT NULL
        )
        """,
        """
        CREATE TABLE chain_segments (
            chain_id TEXT NOT NULL REFERENCES chains (id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            state TEXT NOT NULL,
            clip_id TEXT REFERENCES clips (id),
            last_frame_path TEXT,
            updated_at {time} NOT NULL,
            PRIMARY KEY (chain_id, position)
        )
        """,
        """
        CREATE TABLE api_tokens (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            token_hash TEXT NOT NULL UNIQUE,
            created_at {time} NOT NULL,
            revoked_at {time},
            last_used_at {time}
        )
        """,
        "CREATE UNIQUE INDEX api_tokens_active_name ON api_tokens (name) WHERE revoked_at IS NULL",
        """
        CREATE TABLE idempotency_keys (
            scope TEXT NOT NULL,
            idempotency_key TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            resource_id TEXT,
            created_at {time} NOT NULL,
            PRIMARY KEY (scope, idempotency_key)
        )
        """,
        // Jobs. A queued job is runnable from run_at; a running one is held by lease_token until
        // lease_expires_at; succeeded, dead and cancelled are final.
        """
        CREATE TABLE jobs (
            id {id},
            kind TEXT NOT NULL,
            payload {json} NOT NULL,
            unique_key TEXT,
            state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'dead', 'cancelled')),
            attempts INTEGER NOT NULL,
            max_attempts INTEGER NOT NULL,
            run_at {time} NOT NULL,
            created_at {time} NOT NULL,
            updated_at {time} NOT NULL,
            started_at {time},
            finished_at {time},
            worker_id TEXT,
            lease_token TEXT,
            lease_expires_at {time},
            last_error TEXT
        )
        """,
        // Few indexes: every claim and completion rewrites the row, and each index costs on every write.
        // A heartbeat changes only columns no index holds, so PostgreSQL can update in place (HOT).
        // Partial, so the many jobs without a key cost this index nothing.
        "CREATE UNIQUE INDEX jobs_unique_key ON jobs (unique_key) WHERE unique_key IS NOT NULL",
        "CREATE INDEX jobs_ready ON jobs (run_at, id) WHERE state = 'queued'",
        "CREATE INDEX jobs_running ON jobs (id) WHERE state = 'running'",
    ]
}

extension Ledger {
    /// The schema version this build creates and expects.
    public static var schemaVersion: Int { Schema.latestVersion }
}

extension LedgerStore {
    /// The newest migration applied to the database (a readiness check compares it to
    /// `Ledger.schemaVersion`). Also proves the database answers.
    public func schemaVersion() async throws -> Int {
        try await read { try await Schema.appliedMigrations($0).last?.version ?? 0 }
    }
}

extension Schema {
    /// One row naming this ledger, made by the first node that asks (`storeIdentity()`): what a data
    /// directory's marker file must name for a node to use that directory with this ledger.
    static let version2: [String] = [
        """
        CREATE TABLE store_identity (
            singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
            id TEXT NOT NULL,
            created_at {time} NOT NULL
        )
        """,
    ]
}
