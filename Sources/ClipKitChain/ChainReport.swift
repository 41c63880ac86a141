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
    /// Seconds asked for; an s2v segment's voice length, to the hundredth as it is billed.
    public var seconds: Double
    public var tier: Tier
    public var estimate: Money?
}

/// The end of a chain: per segment, the joined output, the seams, and the audit of what was billed.
public struct ChainReport: Sendable, Codable, Hashable {
    /// One segment as run: its plan, every attempt, the accepted clip.
    public struct Segment: Sendable, Codable, Hashable {
        public var plan: SegmentPlan
        public var attempts: [ChainState.Attempt]
        public var clip: String?
        /// The first frame against the image sent, read with BT.601 and BT.709.
        public var colorMatch: MatrixMatch?
        /// The matrix the clip was read with (last frame and join).
        public var matrix: ColorMatrix?
    }

    public var output: String
    public var segments: [Segment]
    /// What the price book says was committed (every task not failed at the provider), per currency.
    public var estimatedSpend: [Money]
    public var concat: ConcatReport
    /// Per model, the matrix its clips were measured to need (models measured indecisively or not at
    /// all are read by their evidence and are not listed).
    public var colorMatrices: [String: ColorMatrix]
    public var audit: AuditSummary
    public var findings: [Finding]
    public var contactSheet: String
    public var reportFile: String
}
