import ClipKitAudit
import ClipKitCore
import ClipKitMedia
import ClipKitProviders
import Foundation

/// One planned segment: what will be asked for and what it should cost.
public struct SegmentPlan: Sendable, Codable, Hashable {
    public var index: Int
    public var prompt: String
    public var mode: GenerationMode
    public var model: String
    public var seconds: Int
    public var tier: Tier
    public var estimate: Money?
}

/// The end of a chain: per segment, the joined output, the seams, and the audit of what was billed.
public struct ChainReport: Sendable, Codable, Hashable {
    public struct Segment: Sendable, Codable, Hashable {
        public var plan: SegmentPlan
        public var attempts: [ChainState.Attempt]
        public var clip: String?
    }

    public var output: String
    public var segments: [Segment]
    /// What the price book says was committed (every task not failed at the provider), per currency.
    public var estimatedSpend: [Money]
    public var concat: ConcatReport
    public var audit: AuditSummary
    public var findings: [Finding]
    public var contactSheet: String
    public var reportFile: String
}
