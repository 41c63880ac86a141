import ClipKitCore
import Foundation

/// Totals for one currency. Amounts in different currencies are never added together.
public struct CurrencyTotal: Sendable, Hashable, Codable {
    public var currency: String
    /// Every charge, duplicates included.
    public var billed: Money
    /// The part of `billed` the delivered clips support: billed − disputed.
    public var verified: Money
    /// The part of `billed` the findings dispute.
    public var disputed: Money

    public init(currency: String, billed: Money, verified: Money, disputed: Money) {
        self.currency = currency
        self.billed = billed
        self.verified = verified
        self.disputed = disputed
    }
}

/// Totals for one provider, or one provider and model, in one currency.
public struct GroupTotal: Sendable, Hashable, Codable {
    public var provider: String
    /// Nil in the per-provider list.
    public var model: String?
    /// Nil for tasks whose amount is unknown.
    public var currency: String?
    public var billedTasks: Int
    /// Seconds billed, duplicates included.
    public var billedSeconds: Decimal
    /// Seconds of video the matched clips really hold (zero for missing or broken clips).
    public var deliveredSeconds: Decimal
    public var billed: Money?
    public var disputed: Money?
    public var findings: Int
}

/// The audit's result: counts, totals, and every finding.
public struct AuditSummary: Sendable, Hashable, Codable {
    /// Records read (each object, array element, JSON line or CSV row).
    public var records: Int = 0
    public var recordProblems: Int = 0
    /// Well-formed records about no task (creation errors).
    public var ignoredRecords: Int = 0
    /// Distinct task ids.
    public var tasks: Int = 0
    /// Tasks with a charge.
    public var billedTasks: Int = 0
    /// Billed tasks whose amount is unknown (no price).
    public var unpricedTasks: Int = 0
    /// Clip files in the clips folder.
    public var clipsInFolder: Int = 0
    /// Billed tasks whose clip was found and probed.
    public var clipsChecked: Int = 0
    /// Clip files no record refers to.
    public var clipsWithoutRecord: Int = 0
    public var errors: Int = 0
    public var warnings: Int = 0
    public var totals: [CurrencyTotal] = []
    public var providers: [GroupTotal] = []
    public var models: [GroupTotal] = []
}

/// A finished audit: the summary and the findings, ready for a report.
public struct AuditReport: Sendable, Hashable, Codable {
    public var summary: AuditSummary
    public var findings: [Finding]

    /// True when a finding at `level` or above exists.
    public func reaches(_ level: Finding.Severity) -> Bool {
        findings.contains { $0.severity >= level }
    }
}
