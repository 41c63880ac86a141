import ClipKitAudit
import Foundation

/// What the ledger holds in money and bytes, summed exactly (for `GET /metrics`).
public struct LedgerTotals: Sendable, Hashable {
    /// Billed amounts of verified tasks, by currency.
    public var billed: [String: Decimal] = [:]
    /// Amounts audit findings dispute (over-billed), by currency.
    public var disputed: [String: Decimal] = [:]
    /// Clips stored and their bytes.
    public var clips = 0
    public var clipBytes: Int64 = 0
}

extension LedgerTransaction {
    /// Sums in Swift `Decimal`, not in SQL: SQLite would sum decimal text as floating point.
    public func totals() async throws -> LedgerTotals {
        var totals = LedgerTotals()
        for row in try await query("SELECT billed_amount, billed_currency FROM provider_tasks WHERE billed_amount IS NOT NULL") {
            if let money = try row.optionalMoney("billed") { totals.billed[money.currency, default: 0] += money.amount }
        }
        for row in try await query(
            "SELECT over_billed_amount, over_billed_currency FROM audit_findings WHERE over_billed_amount IS NOT NULL") {
            if let money = try row.optionalMoney("over_billed") { totals.disputed[money.currency, default: 0] += money.amount }
        }
        if let row = try await queryOne("SELECT COUNT(*) AS n, CAST(COALESCE(SUM(byte_count), 0) AS BIGINT) AS bytes FROM clips") {
            totals.clips = Int(try row.int64("n"))
            totals.clipBytes = try row.int64("bytes")
        }
        return totals
    }
}
