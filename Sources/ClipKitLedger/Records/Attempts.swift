import ClipKitAudit
import Foundation

/// One try at a generation request (an API task request, a chain segment): the provider task it
/// submitted and what came of it. A request's attempts are numbered 1, 2, … in order.
public struct AttemptRecord: Sendable, Hashable, Identifiable {
    public enum Outcome: String, Sendable, Hashable, Codable {
        /// Submitted and not finished: resume by polling, never by submitting again.
        case pending
        case accepted
        /// The provider reported failure (no clip).
        case failed
        /// A clip arrived but failed verification (and was still billed).
        case rejected
    }

    public var id: String
    /// What is being generated: `chain:ID:SEGMENT`, an API request's id, …
    public var request: String
    public var number: Int
    public var taskID: String?
    public var clipID: String?
    public var outcome: Outcome
    public var reason: String?
    /// What the price book says the attempt costs.
    public var estimate: Money?
    public var createdAt: Date
    public var updatedAt: Date
}

extension LedgerTransaction {
    static let attemptColumns = """
        id, request, number, task_id, clip_id, outcome, reason, estimate_amount, estimate_currency, created_at, updated_at
        """

    /// Starts the request's next attempt (numbered after its last one), pending.
    /// - Throws: `LedgerError.conflict` when another attempt of the same request was started at the same time.
    public func startAttempt(request: String, taskID: String? = nil, estimate: Money? = nil) async throws -> AttemptRecord {
        let now = self.now
        let id = RecordID.make("attempt", at: now)
        let row = try await queryOne(
            """
            INSERT INTO attempts (\(Self.attemptColumns))
            SELECT $1, $2, COALESCE(MAX(number), 0) + 1, $3, NULL, 'pending', NULL, $4, $5, $6, $6
            FROM attempts WHERE request = $2
            ON CONFLICT DO NOTHING RETURNING \(Self.attemptColumns)
            """, [.text(id), .text(request), SQLValue(taskID), SQLValue(estimate?.amount), SQLValue(estimate?.currency), .date(now)])
        guard let row else { throw LedgerError(.conflict, "another attempt at \(request) was started at the same time") }
        return try Self.attempt(row)
    }

    /// Records what came of an attempt.
    /// - Throws: `LedgerError.notFound` when there is no such attempt.
    public func finishAttempt(
        _ id: String, outcome: AttemptRecord.Outcome, reason: String? = nil, taskID: String? = nil, clipID: String? = nil
    ) async throws {
        let rows = try await query(
            """
            UPDATE attempts SET outcome = $2, reason = $3, task_id = COALESCE($4, task_id), clip_id = COALESCE($5, clip_id),
                updated_at = $6
            WHERE id = $1 RETURNING id
            """, [.text(id), .text(outcome.rawValue), SQLValue(reason), SQLValue(taskID), SQLValue(clipID), .date(now)])
        guard !rows.isEmpty else { throw LedgerError(.notFound, "no attempt \(id) in the ledger") }
    }

    /// The request's attempts, first first.
    public func attempts(request: String) async throws -> [AttemptRecord] {
        try await query("SELECT \(Self.attemptColumns) FROM attempts WHERE request = $1 ORDER BY number", [.text(request)])
            .map(Self.attempt)
    }

    static func attempt(_ row: SQLRow) throws -> AttemptRecord {
        let outcomeText = try row.string("outcome")
        guard let outcome = AttemptRecord.Outcome(rawValue: outcomeText) else {
            throw LedgerError(.corruptRecord, "attempt \(try row.string("id")) has the unknown outcome \(outcomeText)")
        }
        return AttemptRecord(
            id: try row.string("id"), request: try row.string("request"), number: try row.int("number"),
            taskID: try row.optionalString("task_id"), clipID: try row.optionalString("clip_id"), outcome: outcome,
            reason: try row.optionalString("reason"), estimate: try row.optionalMoney("estimate"),
            createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"))
    }
}
