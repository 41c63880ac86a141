import ClipKitCore
import Foundation

// The durable job queue, in the same database as the records, so that a record and the job that follows
// from it commit together (`transaction { tx in … tx.enqueue(…) }`).
//
// Delivery is at least once: a job whose worker dies (or stalls past its lease) is claimed again, and a
// worker that loses its lease may still be running when the next one starts. Handlers make every step
// safe to repeat; see docs/ledger.md.
extension LedgerTransaction {
    static let jobColumns = """
        id, kind, payload, unique_key, state, attempts, max_attempts, run_at, created_at, updated_at, \
        started_at, finished_at, worker_id, lease_expires_at, last_error
        """

    /// Adds a job, or returns the one already holding its unique key.
    /// - Throws: `LedgerError.conflict` for an empty kind or fewer than one attempt.
    public func enqueue(_ new: NewJob) async throws -> Enqueued {
        try new.validate()
        let now = self.now
        let inserted = try await executor.query(
            InsertJob.self,
            [.text(new.kind), SQLValue(json: new.payload), SQLValue(new.uniqueKey), .int(Int64(new.maxAttempts)),
             .date(new.runAt?.roundedToLedgerResolution ?? now), .date(now)]
        ).first
        if let inserted { return Enqueued(job: try Self.job(inserted), created: true) }
        // The key was taken. On PostgreSQL a racing insert was waited for, and this statement's snapshot
        // is newer than its commit, so the winner is visible.
        guard let key = new.uniqueKey,
            let existing = try await queryOne("SELECT \(Self.jobColumns) FROM jobs WHERE unique_key = $1", [.text(key)])
        else { throw LedgerError(.database, "job \(new.kind) was neither inserted nor found by its unique key") }
        return Enqueued(job: try Self.job(existing), created: false)
    }

    /// Adds many jobs in one insert (and one read of the keys already taken): what a burst of webhooks
    /// enqueues in its batch's transaction. Answers in the order of `jobs`; of jobs sharing a unique key,
    /// the first is added and the rest return it. The insert returns only ids: an added job is what was
    /// asked for, so it is not read back (a batch's payloads would be decoded again for nothing).
    /// - Throws: `LedgerError.conflict` for an empty kind or fewer than one attempt.
    public func enqueue(_ jobs: [NewJob]) async throws -> [Enqueued] {
        guard jobs.count > 1 else { return jobs.isEmpty ? [] : [try await enqueue(jobs[0])] }
        var firsts: [NewJob] = [], seen: Set<String> = []
        for job in jobs where job.uniqueKey.map({ seen.insert($0).inserted }) ?? true {
            try job.validate()
            firsts.append(job)
        }
        let now = self.now
        var rows: [String] = [], binds: [SQLValue] = [.date(now)]
        for job in firsts {
            let n = binds.count
            rows.append("($\(n + 1), $\(n + 2), $\(n + 3), 'queued', 0, $\(n + 4), $\(n + 5), $1, $1)")
            binds += [.text(job.kind), SQLValue(json: job.payload), SQLValue(job.uniqueKey), .int(Int64(job.maxAttempts)),
                      .date(job.runAt?.roundedToLedgerResolution ?? now)]
        }
        func added(_ job: NewJob, id: JobID) -> Enqueued {
            Enqueued(job: Job(id: id, kind: job.kind, payload: job.payload, uniqueKey: job.uniqueKey, state: .queued, attempts: 0,
                              maxAttempts: job.maxAttempts, runAt: job.runAt?.roundedToLedgerResolution ?? now,
                              createdAt: now, updatedAt: now), created: true)
        }
        // Rows come back in no promised order: keyed jobs are matched by key, unkeyed ones (always
        // inserted, ids given in the order of the rows) in order.
        var insertedKeys: [String: JobID] = [:], unkeyedIDs: [JobID] = []
        for row in try await query(InsertJob.statement(values: rows.joined(separator: ", "), returning: "id, unique_key"), binds) {
            let id = JobID(try row.int64("id"))
            if let key = try row.optionalString("unique_key") { insertedKeys[key] = id } else { unkeyedIDs.append(id) }
        }
        var byKey: [String: Enqueued] = [:]
        for job in firsts { if let key = job.uniqueKey, let id = insertedKeys[key] { byKey[key] = added(job, id: id) } }
        let taken = seen.filter { byKey[$0] == nil }.sorted()
        if !taken.isEmpty {
            for row in try await query(
                "SELECT \(Self.jobColumns) FROM jobs WHERE unique_key IN (\(SQLDialect.placeholders(from: 1, count: taken.count)))",
                taken.map(SQLValue.text))
            {
                let job = try Self.job(row)
                if let key = job.uniqueKey { byKey[key] = Enqueued(job: job, created: false) }
            }
        }
        var answered: Set<String> = [], nextUnkeyedID = unkeyedIDs.sorted().makeIterator()
        return try jobs.map { job in
            guard let key = job.uniqueKey else {
                guard let id = nextUnkeyedID.next() else { throw LedgerError(.database, "job \(job.kind) was not inserted") }
                return added(job, id: id)
            }
            guard var answer = byKey[key] else {
                throw LedgerError(.database, "job \(job.kind) was neither inserted nor found by its unique key")
            }
            if !answered.insert(key).inserted { answer.created = false }
            return answer
        }
    }

    /// Claims up to `limit` runnable jobs (queued, `runAt` passed, of `kinds` or any kind when nil),
    /// oldest `runAt` first, for `worker`, each with a lease of `lease`.
    ///
    /// On PostgreSQL racing claimers skip each other's rows (`FOR UPDATE SKIP LOCKED`); on SQLite the
    /// write transaction excludes them. Either way no two claims get the same job.
    public func claimJobs(worker: String, kinds: Set<String>? = nil, limit: Int = 1, lease: Duration = .seconds(30))
        async throws -> [ClaimedJob]
    {
        guard limit > 0, kinds.map({ !$0.isEmpty }) ?? true else { return [] }
        let now = self.now
        let token = UUID().uuidString.lowercased()
        let expires = now.adding(lease)
        var binds: [SQLValue] = [.text(worker), .text(token), .date(expires), .date(now), .int(Int64(limit))]
        var kindFilter = ""
        if let kinds {
            kindFilter = " AND kind IN (\(SQLDialect.placeholders(from: binds.count + 1, count: kinds.count)))"
            binds += kinds.sorted().map(SQLValue.text)
        }
        let rows = try await query(
            """
            UPDATE jobs SET state = 'running', attempts = attempts + 1, worker_id = $1, lease_token = $2,
                lease_expires_at = $3, started_at = $4, updated_at = $4
            WHERE id IN (
                SELECT id FROM jobs WHERE state = 'queued' AND run_at <= $4\(kindFilter)
                ORDER BY run_at, id LIMIT $5\(dialect.skipLocked))
            RETURNING \(Self.jobColumns)
            """, binds)
        return try rows.map(Self.job).sorted { ($0.runAt, $0.id) < ($1.runAt, $1.id) }.map { job in
            ClaimedJob(
                job: job,
                lease: JobLease(
                    jobID: job.id, token: token, workerID: worker, attempt: job.attempts, maxAttempts: job.maxAttempts,
                    expiresAt: expires))
        }
    }

    /// Renews `leases` to `lease` from now. A lease that is no longer the job's (rescued and claimed
    /// again, or the job finished) is reported lost: its worker must stop and report nothing.
    public func heartbeat(_ leases: [JobLease], lease: Duration = .seconds(30)) async throws -> HeartbeatResult {
        guard !leases.isEmpty else { return HeartbeatResult(renewed: [], lost: []) }
        let now = self.now
        let expires = now.adding(lease)
        var filter = SQLFilter(binds: [.date(expires), .date(now)])
        let rows = try await query(
            """
            UPDATE jobs SET lease_expires_at = $1, updated_at = $2
            WHERE \(filter.held(by: leases)) RETURNING id, lease_token
            """, filter.binds)
        var held: Set<JobLease.Key> = []
        for row in rows { held.insert(JobLease.Key(jobID: JobID(try row.int64("id")), token: try row.string("lease_token"))) }
        var result = HeartbeatResult(renewed: [], lost: [])
        for var lease in leases {
            if held.contains(lease.key) {
                lease.expiresAt = expires
                result.renewed.append(lease)
            } else {
                result.lost.append(lease.jobID)
            }
        }
        return result
    }

    /// Marks the job succeeded. Inside a `transaction` with the job's result, a lost lease rolls the
    /// result back too.
    /// - Throws: `LedgerError.leaseLost` when the lease is no longer the job's.
    public func complete(_ lease: JobLease) async throws {
        guard try await complete([lease]) == [lease.jobID] else { throw Self.leaseLost(lease, "complete") }
    }

    /// Marks many jobs succeeded in one statement (a worker's completions, batched). Returns the jobs
    /// completed; the others' leases were lost.
    @discardableResult
    public func complete(_ leases: [JobLease]) async throws -> [JobID] {
        guard !leases.isEmpty else { return [] }
        var filter = SQLFilter(binds: [.date(now)])
        let rows = try await query(
            """
            UPDATE jobs SET state = 'succeeded', finished_at = $1, updated_at = $1, lease_token = NULL,
                lease_expires_at = NULL
            WHERE \(filter.held(by: leases)) RETURNING id
            """, filter.binds)
        return try rows.map { JobID(try $0.int64("id")) }.sorted()
    }

    /// Records a failed attempt: queued again after the plan's wait while attempts are left, dead
    /// otherwise (or at once for `.never`). `error` is kept as the job's last error.
    /// - Throws: `LedgerError.leaseLost` when the lease is no longer the job's.
    @discardableResult
    public func fail(_ lease: JobLease, error: String, retry plan: RetryPlan = .backoff(.standard)) async throws
        -> FailOutcome
    {
        let now = self.now
        var outcome = FailOutcome.dead
        if lease.attempt < lease.maxAttempts {
            switch plan {
            case .backoff(let backoff): outcome = .retrying(at: now.adding(backoff.delay(afterAttempt: lease.attempt)))
            case .after(let wait): outcome = .retrying(at: now.adding(wait))
            case .never: break
            }
        }
        let (state, runAt, finished): (String, Date?, Date?) =
            switch outcome {
            case .retrying(let at): ("queued", at, nil)
            case .dead: ("dead", nil, now)
            }
        let rows = try await query(
            """
            UPDATE jobs SET state = $3, run_at = COALESCE($4, run_at), finished_at = $5, last_error = $6,
                updated_at = $7, lease_token = NULL, lease_expires_at = NULL
            WHERE id = $1 AND lease_token = $2 AND state = 'running'
            RETURNING id
            """,
            [.int(lease.jobID.rawValue), .text(lease.token), .text(state), SQLValue(runAt), SQLValue(finished),
             .text(String(error.prefix(4000))), .date(now)])
        guard !rows.isEmpty else { throw Self.leaseLost(lease, "fail") }
        return outcome
    }

    /// Hands running jobs back without counting the attempt (a worker shutting down): they are queued to
    /// run now elsewhere. Returns the jobs handed back; leases already lost are skipped.
    @discardableResult
    public func release(_ leases: [JobLease]) async throws -> [JobID] {
        guard !leases.isEmpty else { return [] }
        var filter = SQLFilter(binds: [.date(now)])
        let rows = try await query(
            """
            UPDATE jobs SET state = 'queued', attempts = attempts - 1, run_at = $1, updated_at = $1,
                lease_token = NULL, lease_expires_at = NULL
            WHERE \(filter.held(by: leases)) RETURNING id
            """, filter.binds)
        return try rows.map { JobID(try $0.int64("id")) }.sorted()
    }

    /// Advisory-lock key that lets one PostgreSQL node rescue at a time ("CKrescue").
    static let rescuerLock: Int64 = 0x434B_7265_7363_7565

    /// Re-queues up to `limit` running jobs whose lease has expired (their worker died or stalled), or
    /// marks them dead when that was their last attempt. Call it in a `transaction` (the store's
    /// `rescueExpiredLeases` does): on PostgreSQL it first takes a transaction-scoped advisory lock, and
    /// returns `skipped` when another node's rescuer holds it.
    public func rescueExpiredLeases(limit: Int = 1000) async throws -> RescueReport {
        if backend == .postgres {
            let row = try await queryOne("SELECT pg_try_advisory_xact_lock($1) AS acquired", [.int(Self.rescuerLock)])
            guard try row?.bool("acquired") == true else { return RescueReport(requeued: [], dead: [], skipped: true) }
        }
        let now = self.now
        let rows = try await query(
            """
            UPDATE jobs SET
                state = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'queued' END,
                finished_at = CASE WHEN attempts >= max_attempts THEN $1 ELSE NULL END,
                run_at = $1, updated_at = $1,
                last_error = 'the lease of ' || COALESCE(worker_id, 'its worker') || ' expired before the job finished',
                lease_token = NULL, lease_expires_at = NULL
            WHERE id IN (
                SELECT id FROM jobs WHERE state = 'running' AND lease_expires_at < $1
                ORDER BY lease_expires_at LIMIT $2\(dialect.skipLocked))
            RETURNING id, state
            """, [.date(now), .int(Int64(limit))])
        var report = RescueReport(requeued: [], dead: [], skipped: false)
        for row in rows {
            let id = JobID(try row.int64("id"))
            if try row.string("state") == JobState.dead.rawValue { report.dead.append(id) } else { report.requeued.append(id) }
        }
        report.requeued.sort()
        report.dead.sort()
        return report
    }

    /// Cancels a job that has not started. Returns false when it is running or final (a running job is
    /// not interrupted).
    public func cancelJob(_ id: JobID) async throws -> Bool {
        let now = self.now
        return try await !query(
            """
            UPDATE jobs SET state = 'cancelled', finished_at = $2, updated_at = $2
            WHERE id = $1 AND state = 'queued' RETURNING id
            """, [.int(id.rawValue), .date(now)]
        ).isEmpty
    }

    /// Puts a dead job back in the queue with its attempts reset (an operator's retry). Returns false
    /// when the job is not dead.
    public func retryDeadJob(_ id: JobID) async throws -> Bool {
        let now = self.now
        return try await !query(
            """
            UPDATE jobs SET state = 'queued', attempts = 0, run_at = $2, updated_at = $2, finished_at = NULL
            WHERE id = $1 AND state = 'dead' RETURNING id
            """, [.int(id.rawValue), .date(now)]
        ).isEmpty
    }

    public func job(_ id: JobID) async throws -> Job? {
        try await queryOne("SELECT \(Self.jobColumns) FROM jobs WHERE id = $1", [.int(id.rawValue)]).map(Self.job)
    }

    /// The job kept under a unique key, in any state.
    public func job(uniqueKey: String) async throws -> Job? {
        try await queryOne("SELECT \(Self.jobColumns) FROM jobs WHERE unique_key = $1", [.text(uniqueKey)]).map(Self.job)
    }

    /// Jobs newest first, optionally of one state and kind, before `beforeID` (for paging).
    public func jobs(state: JobState? = nil, kind: String? = nil, limit: Int = 100, beforeID: JobID? = nil)
        async throws -> [Job]
    {
        var filter = SQLFilter()
        filter.add("state", "=", state.map { .text($0.rawValue) })
        filter.add("kind", "=", kind.map(SQLValue.text))
        filter.add("id", "<", beforeID.map { .int($0.rawValue) })
        let limit = filter.bind(.int(Int64(limit)))
        return try await query(
            "SELECT \(Self.jobColumns) FROM jobs \(filter.whereClause) ORDER BY id DESC LIMIT \(limit)", filter.binds
        ).map(Self.job)
    }

    /// How many jobs of each kind are in each state (kinds and states with no job are absent).
    public func jobCounts() async throws -> [JobCount] {
        try await query("SELECT kind, state, COUNT(*) AS count FROM jobs GROUP BY kind, state ORDER BY kind, state").map {
            guard let state = JobState(rawValue: try $0.string("state")) else {
                throw LedgerError(.corruptRecord, "a job has the unknown state \(try $0.string("state"))")
            }
            return JobCount(kind: try $0.string("kind"), state: state, count: try $0.int("count"))
        }
    }

    /// Deletes succeeded and cancelled jobs finished before `date` (dead jobs are kept for inspection).
    /// Their unique keys are free again afterwards. Returns how many were deleted.
    public func pruneJobs(finishedBefore date: Date) async throws -> Int {
        try await query(
            "DELETE FROM jobs WHERE state IN ('succeeded', 'cancelled') AND finished_at < $1 RETURNING id",
            [.date(date.roundedToLedgerResolution)]
        ).count
    }

    static func job(_ row: SQLRow) throws -> Job {
        let stateText = try row.string("state")
        guard let state = JobState(rawValue: stateText) else {
            throw LedgerError(.corruptRecord, "job \(try row.int64("id")) has the unknown state \(stateText)")
        }
        return Job(
            id: JobID(try row.int64("id")), kind: try row.string("kind"), payload: try row.json("payload"),
            uniqueKey: try row.optionalString("unique_key"), state: state, attempts: try row.int("attempts"),
            maxAttempts: try row.int("max_attempts"), runAt: try row.date("run_at"), createdAt: try row.date("created_at"),
            updatedAt: try row.date("updated_at"), startedAt: try row.optionalDate("started_at"),
            finishedAt: try row.optionalDate("finished_at"), workerID: try row.optionalString("worker_id"),
            leaseExpiresAt: try row.optionalDate("lease_expires_at"), lastError: try row.optionalString("last_error"))
    }

    static func leaseLost(_ lease: JobLease, _ action: String) -> LedgerError {
        LedgerError(
            .leaseLost,
            "cannot \(action) job \(lease.jobID): \(lease.workerID) no longer holds it (its lease expired and the job "
                + "was rescued, or it was released)")
    }
}

extension NewJob {
    /// - Throws: `LedgerError.conflict` for an empty kind or fewer than one attempt.
    func validate() throws {
        guard !kind.isEmpty else { throw LedgerError(.conflict, "a job needs a kind") }
        guard maxAttempts >= 1 else {
            throw LedgerError(.conflict, "job \(kind): maxAttempts must be at least 1, not \(maxAttempts)")
        }
    }
}

/// The enqueue: one statement per job, so prepared on PostgreSQL.
enum InsertJob: FixedStatement {
    static let sql = statement(values: "($1, $2, $3, 'queued', 0, $4, $5, $6, $6)")
    static let parameters: [SQLValue.Kind] = [.text, .json, .text, .int, .date, .date]

    /// The insert of the jobs in `values` (rows of kind, payload, unique key, 'queued', 0, max attempts,
    /// run at, created at, updated at), skipping any whose unique key is taken, answering `returning`.
    static func statement(values: String, returning: String = LedgerTransaction.jobColumns) -> String {
        """
        INSERT INTO jobs (kind, payload, unique_key, state, attempts, max_attempts, run_at, created_at, updated_at)
        VALUES \(values)
        ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL DO NOTHING
        RETURNING \(returning)
        """
    }
}

extension JobLease {
    struct Key: Hashable {
        let jobID: JobID
        let token: String
    }

    var key: Key { Key(jobID: jobID, token: token) }
}

// Each call in its own scope: the cheapest one that keeps it correct.
extension LedgerStore {
    /// `LedgerTransaction.enqueue(_:)` on its own.
    public func enqueue(_ new: NewJob) async throws -> Enqueued {
        try await autocommit { try await $0.enqueue(new) }
    }

    /// `LedgerTransaction.claimJobs(worker:kinds:limit:lease:)` on its own.
    public func claimJobs(worker: String, kinds: Set<String>? = nil, limit: Int = 1, lease: Duration = .seconds(30))
        async throws -> [ClaimedJob]
    {
        try await autocommit { try await $0.claimJobs(worker: worker, kinds: kinds, limit: limit, lease: lease) }
    }

    /// `LedgerTransaction.heartbeat(_:lease:)` on its own.
    public func heartbeat(_ leases: [JobLease], lease: Duration = .seconds(30)) async throws -> HeartbeatResult {
        try await autocommit { try await $0.heartbeat(leases, lease: lease) }
    }

    /// `LedgerTransaction.complete(_:)` on its own.
    public func complete(_ lease: JobLease) async throws {
        try await autocommit { try await $0.complete(lease) }
    }

    /// `LedgerTransaction.complete(_:)` for many leases, in one statement.
    @discardableResult
    public func complete(_ leases: [JobLease]) async throws -> [JobID] {
        try await autocommit { try await $0.complete(leases) }
    }

    /// `LedgerTransaction.fail(_:error:retry:)` on its own.
    @discardableResult
    public func fail(_ lease: JobLease, error: String, retry plan: RetryPlan = .backoff(.standard)) async throws
        -> FailOutcome
    {
        try await autocommit { try await $0.fail(lease, error: error, retry: plan) }
    }

    /// `LedgerTransaction.release(_:)` on its own.
    @discardableResult
    public func release(_ leases: [JobLease]) async throws -> [JobID] {
        try await autocommit { try await $0.release(leases) }
    }

    /// One pass of the lease rescuer, in its own transaction. Safe to run on every node, every few seconds.
    public func rescueExpiredLeases(limit: Int = 1000) async throws -> RescueReport {
        try await transaction { try await $0.rescueExpiredLeases(limit: limit) }
    }

    public func cancelJob(_ id: JobID) async throws -> Bool {
        try await autocommit { try await $0.cancelJob(id) }
    }

    public func retryDeadJob(_ id: JobID) async throws -> Bool {
        try await autocommit { try await $0.retryDeadJob(id) }
    }

    public func job(_ id: JobID) async throws -> Job? {
        try await read { try await $0.job(id) }
    }

    public func jobs(state: JobState? = nil, kind: String? = nil, limit: Int = 100, beforeID: JobID? = nil)
        async throws -> [Job]
    {
        try await read { try await $0.jobs(state: state, kind: kind, limit: limit, beforeID: beforeID) }
    }

    public func jobCounts() async throws -> [JobCount] {
        try await read { try await $0.jobCounts() }
    }

    public func pruneJobs(finishedBefore date: Date) async throws -> Int {
        try await autocommit { try await $0.pruneJobs(finishedBefore: date) }
    }
}
