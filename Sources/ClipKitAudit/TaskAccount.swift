import ClipKitCore
import Foundation

/// What the audit keeps per task while records stream by: a few fields, not the records.
struct TaskAccount: Sendable {
    struct BillLine: Sendable {
        var location: RecordLocation
        var amount: Money?
        var seconds: Decimal?
        var tier: Tier?
        var status: TaskStatus?
    }

    var taskID: String
    var first: RecordLocation
    var provider: String?
    var model: String?
    var status: TaskStatus?
    var providerStatus: String?
    var errorCode: String?
    var errorMessage: String?
    var contentFlagged = false
    var tier: Tier?
    var billedSeconds: Decimal?
    var outputSeconds: Decimal?
    var requestedSeconds: Decimal?
    var executionSeconds: Decimal?
    var outputURLs: [String] = []
    var audioRequested: Bool?
    var clipHint: String?
    /// The first task account that implies a charge (usage, a completed task).
    var impliedCharge: RecordLocation?
    /// Bill lines, in the order read: more than one is a duplicate charge.
    var bills: [BillLine] = []

    init(taskID: String, first: RecordLocation) {
        self.taskID = taskID
        self.first = first
    }

    var isCharged: Bool { !bills.isEmpty || impliedCharge != nil }

    /// Folds a record in. Bill lines are kept (each is a charge); task accounts fill fields still
    /// unknown, and a final status replaces a pending one.
    mutating func merge(_ record: BillingRecord) {
        if record.isBillLine {
            bills.append(
                BillLine(
                    location: record.location, amount: record.amount, seconds: record.billedSeconds,
                    tier: record.tier, status: record.status))
            provider = provider ?? record.provider
            model = model ?? record.model
            if status == nil { status = record.status }
            return
        }
        provider = provider ?? record.provider
        model = model ?? record.model
        if let new = record.status, status == nil || status == .pending || status == .running || status == .unknown {
            status = new
            providerStatus = record.providerStatus
        }
        errorCode = errorCode ?? record.errorCode
        errorMessage = errorMessage ?? record.errorMessage
        contentFlagged = contentFlagged || record.contentFlagged
        tier = tier ?? record.tier
        billedSeconds = billedSeconds ?? record.billedSeconds
        outputSeconds = outputSeconds ?? record.outputSeconds
        requestedSeconds = requestedSeconds ?? record.requestedSeconds
        executionSeconds = executionSeconds ?? record.executionSeconds
        if outputURLs.isEmpty { outputURLs = Array(record.outputURLs.prefix(2)) }
        audioRequested = audioRequested ?? record.audioRequested
        clipHint = clipHint ?? record.clipHint
        if record.charged && impliedCharge == nil { impliedCharge = record.location }
    }
}
