import Foundation

/// Runs one statement on the connection a transaction holds. The two drivers implement it; everything
/// above is written once, in SQL both databases accept, with `$1`, `$2`, … for the bound values.
protocol SQLExecutor: Sendable {
    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow]

    /// Runs a statement whose text never changes; PostgreSQL prepares it once per connection (parsing
    /// and planning are most of a one-row statement's cost there).
    func query<Statement: FixedStatement>(_ statement: Statement.Type, _ binds: [SQLValue]) async throws -> [SQLRow]
}

/// A statement of the hot path with fixed text and parameter kinds (see `SQLExecutor.query(_:_:)`).
protocol FixedStatement: Sendable {
    static var sql: String { get }
    /// The kind of each parameter, in order, as PostgreSQL must be told them when it prepares.
    static var parameters: [SQLValue.Kind] { get }
}

extension SQLExecutor {
    func query<Statement: FixedStatement>(_ statement: Statement.Type, _ binds: [SQLValue]) async throws -> [SQLRow] {
        try await query(Statement.sql, binds)
    }

    func execute(_ sql: String, _ binds: [SQLValue] = []) async throws {
        _ = try await query(sql, binds)
    }

    func queryOne(_ sql: String, _ binds: [SQLValue] = []) async throws -> SQLRow? {
        try await query(sql, binds).first
    }

    /// Runs COMMIT or ROLLBACK even when the calling task is cancelled (a worker stopped mid-claim):
    /// SQLiteNIO drops a cancelled task's statements unrun, and a skipped end would leave the
    /// connection inside the transaction, so the next scope on it fails or, on PostgreSQL, joins it.
    func end(_ sql: String) async throws {
        try await Task { try await self.execute(sql) }.value
    }
}

/// What differs between the two databases in the shared SQL.
struct SQLDialect: Sendable {
    let backend: LedgerBackend

    /// Appended to the SELECT that picks rows to claim: PostgreSQL lets racing claimers pass each other's
    /// locked rows; SQLite needs nothing, its write transaction already excludes every other writer.
    var skipLocked: String { backend == .postgres ? " FOR UPDATE SKIP LOCKED" : "" }

    /// Appended to a SELECT whose rows the transaction goes on to change (a budget's totals).
    var forUpdate: String { backend == .postgres ? " FOR UPDATE" : "" }

    /// `$first, $first+1, …` for an IN list of `count` values.
    static func placeholders(from first: Int, count: Int) -> String {
        (first..<(first + count)).map { "$\($0)" }.joined(separator: ", ")
    }
}

/// A WHERE clause built from the filters a caller gave: a filter left out adds nothing, so no statement
/// binds a NULL whose type PostgreSQL would have to guess.
struct SQLFilter {
    private(set) var binds: [SQLValue]
    private var conditions: [String] = []

    /// `binds` are the statement's values before the filter's.
    init(binds: [SQLValue] = []) { self.binds = binds }

    /// Adds `column op value` when `value` is not nil.
    mutating func add(_ column: String, _ comparison: String, _ value: SQLValue?) {
        guard let value, value != .null else { return }
        binds.append(value)
        conditions.append("\(column) \(comparison) $\(binds.count)")
    }

    /// The placeholder of one more value (for LIMIT and the like).
    mutating func bind(_ value: SQLValue) -> String {
        binds.append(value)
        return "$\(binds.count)"
    }

    /// The condition that a running job is still held by one of `leases`. Tokens are random per claim,
    /// so a job whose id and token are both listed is held by one of them.
    mutating func held(by leases: [JobLease]) -> String {
        let first = binds.count + 1
        binds += leases.map { .int($0.jobID.rawValue) }
        let tokens = Set(leases.map(\.token)).sorted()
        binds += tokens.map(SQLValue.text)
        return "state = 'running' AND id IN (\(SQLDialect.placeholders(from: first, count: leases.count))) "
            + "AND lease_token IN (\(SQLDialect.placeholders(from: first + leases.count, count: tokens.count)))"
    }

    var whereClause: String { conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ") }
}
