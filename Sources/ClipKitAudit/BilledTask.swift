import ClipKitCore
import Foundation

/// A task as billed, after all its records are merged: what the checks compare with the clip.
public struct BilledTask: Sendable, Hashable {
    /// Where the billed tier came from; a tier only assumed from the clip is never "mismatched".
    public enum TierSource: String, Sendable, Hashable, Codable {
        /// Usage, a bill column or a request parameter.
        case record
        /// The model is sold at one tier only (WaveSpeed `…-480p`).
        case model
        /// The only tier whose price gives the billed amount.
        case amount
        /// Unknown from the records: taken from the delivered clip.
        case clip
    }

    public var taskID: String
    public var provider: String
    public var model: String?
    public var status: TaskStatus?
    public var providerStatus: String?
    public var errorCode: String?
    public var errorMessage: String?
    public var contentFlagged: Bool
    public var tier: Tier?
    public var tierSource: TierSource?
    /// Seconds billed (after the rule's minimum and increment).
    public var billedSeconds: Decimal?
    /// The video length paid for: what the provider says it output, or the requested/nominal length.
    public var paidSeconds: Decimal?
    /// The amount charged: the bill's, or the price book's for a charge implied by usage.
    public var charge: Money?
    /// The price book's amount for the billed model, tier and seconds.
    public var expectedCharge: Money?
    /// True when the amount came from a bill (so it can disagree with the price book).
    public var chargeFromBill: Bool
    public var rule: PriceRule?
    /// Whether the clip should have audio: the rule's expectation, overridden by the request's switch.
    public var audio: PriceRule.AudioExpectation
    public var clip: String?
    public var matchMethod: MatchMethod?
    /// The record that carries the charge.
    public var record: RecordLocation
    /// ModelVerse execution time, for the report only.
    public var executionSeconds: Decimal?

    public init(
        taskID: String, provider: String, model: String? = nil, status: TaskStatus? = .succeeded,
        providerStatus: String? = nil, errorCode: String? = nil, errorMessage: String? = nil,
        contentFlagged: Bool = false, tier: Tier? = nil, tierSource: TierSource? = .record,
        billedSeconds: Decimal? = nil, paidSeconds: Decimal? = nil, charge: Money?, expectedCharge: Money? = nil,
        chargeFromBill: Bool = false, rule: PriceRule? = nil, audio: PriceRule.AudioExpectation = .any,
        clip: String? = nil, matchMethod: MatchMethod? = nil,
        record: RecordLocation = RecordLocation(file: "-", line: 0), executionSeconds: Decimal? = nil
    ) {
        self.taskID = taskID
        self.provider = provider
        self.model = model
        self.status = status
        self.providerStatus = providerStatus
        self.errorCode = errorCode
        self.errorMessage = errorMessage
        self.contentFlagged = contentFlagged
        self.tier = tier
        self.tierSource = tierSource
        self.billedSeconds = billedSeconds
        self.paidSeconds = paidSeconds ?? billedSeconds
        self.charge = charge
        self.expectedCharge = expectedCharge
        self.chargeFromBill = chargeFromBill
        self.rule = rule
        self.audio = audio
        self.clip = clip
        self.matchMethod = matchMethod
        self.record = record
        self.executionSeconds = executionSeconds
    }

    /// "task abc (wan2.2-t2v-plus, records/bill.csv:4)".
    var name: String { "task \(taskID) (\(model ?? provider), \(record))" }
}
