import Foundation

/// A ledger: ClipKit's records (clips, provider tasks, attempts, webhook deliveries, audit findings,
/// chains, tokens, idempotency keys, budgets) and its durable job queue, in one database.
///
/// Two implementations share every statement: `SQLiteLedgerStore` (one file, WAL, one writer at a time)
/// and `PostgresLedgerStore` (a connection pool; several processes on several machines). Open one with
/// `Ledger.open(_:)`. Work happens in one of three scopes, each lending a `LedgerTransaction`:
///
/// - `transaction`: all of the body's writes commit together, or none when it throws. Use it to make a
///   record and enqueue the job that follows from it, or to report a job done together with its result.
/// - `autocommit`: each statement commits on its own: the cheapest scope for one-statement work (most
///   job-queue calls). On SQLite it is a transaction too, which costs nothing there.
/// - `read`: reads only, beside writers. On PostgreSQL each statement sees the latest commit.
///
/// The `LedgerTransaction` must not escape its body. The convenience methods on `LedgerStore` (for
/// example `enqueue(_:)`, `claimJobs(worker:kinds:limit:lease:)`) each pick the right scope themselves.
public protocol LedgerStore: AnyObject, Sendable {
    /// Which engine is behind this store.
    var backend: LedgerBackend { get }
    /// Where the store is (no password in its description).
    var location: LedgerLocation { get }
    /// The options the store was opened with.
    var options: LedgerOptions { get }

    /// Runs `body` in one database transaction: committed when it returns, rolled back when it throws.
    /// - Throws: what `body` throws, or `LedgerError` when the database fails.
    @discardableResult
    func transaction<T: Sendable>(_ body: (LedgerTransaction) async throws -> T) async throws -> T

    /// Runs `body` on one connection, each statement committing on its own.
    /// - Throws: what `body` throws, or `LedgerError` when the database fails.
    @discardableResult
    func autocommit<T: Sendable>(_ body: (LedgerTransaction) async throws -> T) async throws -> T

    /// Runs read-only `body` on a connection that does not wait for writers.
    /// - Throws: what `body` throws, or `LedgerError` when the database fails.
    func read<T: Sendable>(_ body: (LedgerTransaction) async throws -> T) async throws -> T

    /// Closes every connection. The store cannot be used afterwards.
    func close() async throws

    /// Where the writer connection's statements run, for a caller that writes one transaction after
    /// another (`GroupCommit`) to run its own code there too; nil when there is no such place.
    var writeExecutor: (any TaskExecutor)? { get }
}

extension LedgerStore {
    public var writeExecutor: (any TaskExecutor)? { nil }
}

/// The statements of one scope (`transaction`, `autocommit` or `read`) of a `LedgerStore`. Every ledger
/// operation is a method on it (see the extensions: jobs, clips, tasks, budgets, …), so several can be
/// composed in one transaction.
public struct LedgerTransaction: Sendable {
    let executor: any SQLExecutor
    let dialect: SQLDialect
    let clock: LedgerClock

    init(executor: any SQLExecutor, backend: LedgerBackend, clock: LedgerClock) {
        self.executor = executor
        self.dialect = SQLDialect(backend: backend)
        self.clock = clock
    }

    /// The ledger clock's current time (to the microsecond).
    public var now: Date { clock.now() }

    public var backend: LedgerBackend { dialect.backend }

    func query(_ sql: String, _ binds: [SQLValue] = []) async throws -> [SQLRow] {
        try await executor.query(sql, binds)
    }

    func queryOne(_ sql: String, _ binds: [SQLValue] = []) async throws -> SQLRow? {
        try await executor.query(sql, binds).first
    }

    func execute(_ sql: String, _ binds: [SQLValue] = []) async throws {
        _ = try await executor.query(sql, binds)
    }
}

/// Opening a ledger from a `--database` location.
public enum Ledger {
    /// Opens the ledger at `location` and applies pending migrations (unless `options.migrate` is off).
    /// - Throws: `LedgerError.unavailable` when the database cannot be opened or reached,
    ///   `LedgerError.schemaMismatch` when its schema is newer than this build or a migration fails.
    public static func open(_ location: LedgerLocation, options: LedgerOptions = LedgerOptions()) async throws
        -> any LedgerStore
    {
        switch location {
        case .sqlite(let path): try await SQLiteLedgerStore.open(path: path, options: options)
        case .postgres(let server): try await PostgresLedgerStore.open(server, options: options)
        }
    }

    /// Opens the ledger at a `--database` text (a SQLite path or a `postgres://` URL).
    /// - Throws: `LedgerError.badLocation` for text that is neither, then as `open(_:options:)`.
    public static func open(_ text: String, options: LedgerOptions = LedgerOptions()) async throws -> any LedgerStore {
        try await open(LedgerLocation(parsing: text), options: options)
    }

    /// Opens the ledger, runs `body` with it and always closes it.
    public static func withLedger<T: Sendable>(
        _ location: LedgerLocation, options: LedgerOptions = LedgerOptions(),
        _ body: (any LedgerStore) async throws -> T
    ) async throws -> T {
        let store = try await open(location, options: options)
        do {
            let result = try await body(store)
            try await store.close()
            return result
        } catch {
            try? await store.close()
            throw error
        }
    }
}
