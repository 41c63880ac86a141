import ClipKitAudit
import Foundation

/// An audit finding as stored: the audit's own `Finding` (with its amount over-billed), the run that
/// found it, and when.
public struct StoredFinding: Sendable, Hashable, Identifiable {
    public var id: Int64
    /// The audit or bill reconciliation that produced it.
    public var batch: String
    public var finding: Finding
    public var createdAt: Date
}

extension LedgerTransaction {
    static let findingColumns = """
        id, batch, code, severity, provider, model, provider_task_id, clip, record, message, over_billed_amount, \
        over_billed_currency, created_at
        """

    /// Stores the findings of one audit run under `batch`.
    public func recordFindings(_ findings: [Finding], batch: String) async throws {
        let now = self.now
        for finding in findings {
            try await execute(
                """
                INSERT INTO audit_findings (batch, code, severity, provider, model, provider_task_id, clip, record,
                    message, over_billed_amount, over_billed_currency, created_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                """,
                [.text(batch), .text(finding.code.rawValue), .text(finding.severity.rawValue), SQLValue(finding.provider),
                 SQLValue(finding.model), SQLValue(finding.taskID), SQLValue(finding.clip),
                 finding.record.map { .json(try JSONText.encode($0)) } ?? .null, .text(finding.message),
                 SQLValue(finding.overBilled?.amount), SQLValue(finding.overBilled?.currency), .date(now)])
        }
    }

    /// Findings in the order stored, of one batch or of all, optionally since a time.
    public func findings(batch: String? = nil, since: Date? = nil, limit: Int = 1000) async throws -> [StoredFinding] {
        var filter = SQLFilter()
        filter.add("batch", "=", batch.map(SQLValue.text))
        filter.add("created_at", ">=", since.map(SQLValue.date))
        let limit = filter.bind(.int(Int64(limit)))
        return try await query(
            "SELECT \(Self.findingColumns) FROM audit_findings \(filter.whereClause) ORDER BY id LIMIT \(limit)",
            filter.binds
        ).map(Self.finding)
    }

    /// The newest findings first (the dashboard's list).
    public func recentFindings(limit: Int = 50) async throws -> [StoredFinding] {
        try await query("SELECT \(Self.findingColumns) FROM audit_findings ORDER BY id DESC LIMIT $1", [.int(Int64(limit))]).map(Self.finding)
    }

    static func finding(_ row: SQLRow) throws -> StoredFinding {
        let codeText = try row.string("code")
        let severityText = try row.string("severity")
        guard let code = Finding.Code(rawValue: codeText), let severity = Finding.Severity(rawValue: severityText) else {
            throw LedgerError(.corruptRecord, "finding \(try row.int64("id")) has the unknown code \(codeText) or severity \(severityText)")
        }
        return StoredFinding(
            id: try row.int64("id"), batch: try row.string("batch"),
            finding: Finding(
                code: code, severity: severity, taskID: try row.optionalString("provider_task_id"),
                provider: try row.optionalString("provider"), model: try row.optionalString("model"),
                clip: try row.optionalString("clip"), record: try row.optionalDecoded(RecordLocation.self, "record"),
                message: try row.string("message"), overBilled: try row.optionalMoney("over_billed")),
            createdAt: try row.date("created_at"))
    }
}
