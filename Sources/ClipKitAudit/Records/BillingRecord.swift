import ClipKitCore
import Foundation

/// Where a record came from: its file and the line it starts on.
public struct RecordLocation: Sendable, Hashable, Codable, CustomStringConvertible {
    public var file: String
    public var line: Int

    public init(file: String, line: Int) {
        self.file = file
        self.line = line
    }

    /// "records/bill.csv:7".
    public var description: String { "\(file):\(line)" }
}

/// One provider record normalised: what the provider says a task was, and whether it was charged.
///
/// A record is either a *charge* (a line of a bill: money taken) or a *task* account (an API
/// response, a webhook body, a task record), which implies a charge when it shows usage or a
/// completed task. Several records about one task are merged by the audit.
public struct BillingRecord: Sendable, Hashable {
    /// The record's format.
    public enum Format: String, Sendable, Hashable, Codable {
        case dashScopeTask, dashScopeCreate, waveSpeedResult, waveSpeedWebhook, modelVerseStatus, modelVerseCreate
        case csvBill, taskRecord
    }

    public var location: RecordLocation
    public var format: Format
    public var taskID: String
    /// Lower-case provider name when the record tells it.
    public var provider: String?
    public var model: String?
    public var status: TaskStatus?
    /// The status in the provider's own words.
    public var providerStatus: String?
    public var errorCode: String?
    public var errorMessage: String?
    /// The provider flagged the content (`has_nsfw_contents`, `DataInspectionFailed`).
    public var contentFlagged: Bool
    /// The tier the task was billed or requested at.
    public var tier: Tier?
    /// Seconds the provider bills, from its usage; nil when the record does not say.
    public var billedSeconds: Decimal?
    /// The length of the video the provider says it produced (`output_video_duration`).
    public var outputSeconds: Decimal?
    /// The `duration` the task asked for.
    public var requestedSeconds: Decimal?
    /// The amount a bill states.
    public var amount: Money?
    public var outputURLs: [String]
    /// ModelVerse's `usage.duration`: how long the task RAN. Kept for the report, never billed.
    public var executionSeconds: Decimal?
    /// The request's `audio` switch, when known (wan2.5 defaults to on).
    public var audioRequested: Bool?
    /// The clip this record belongs to when it says so: a task record's `outputFile`, or the clip
    /// whose name it shares (`clip.task.json` → `clip`, without extension).
    public var clipHint: String?
    /// The record shows money was taken: a bill line, usage with billed seconds, or a completed task.
    public var charged: Bool

    public init(
        location: RecordLocation, format: Format, taskID: String, provider: String? = nil,
        model: String? = nil, status: TaskStatus? = nil, providerStatus: String? = nil,
        errorCode: String? = nil, errorMessage: String? = nil, contentFlagged: Bool = false, tier: Tier? = nil,
        billedSeconds: Decimal? = nil, outputSeconds: Decimal? = nil, requestedSeconds: Decimal? = nil,
        amount: Money? = nil, outputURLs: [String] = [], executionSeconds: Decimal? = nil,
        audioRequested: Bool? = nil, clipHint: String? = nil, charged: Bool
    ) {
        self.location = location
        self.format = format
        self.taskID = taskID
        self.provider = provider?.lowercased()
        self.model = model
        self.status = status
        self.providerStatus = providerStatus
        self.errorCode = errorCode
        self.errorMessage = errorMessage
        self.contentFlagged = contentFlagged
        self.tier = tier
        self.billedSeconds = billedSeconds
        self.outputSeconds = outputSeconds
        self.requestedSeconds = requestedSeconds
        self.amount = amount
        self.outputURLs = outputURLs
        self.executionSeconds = executionSeconds
        self.audioRequested = audioRequested
        self.clipHint = clipHint
        self.charged = charged
    }

    /// True for a line of a bill; false for a provider's account of a task.
    public var isBillLine: Bool { format == .csvBill }
}

/// A record that could not be used, with its file and line.
public struct RecordProblem: Sendable, Hashable, Codable, CustomStringConvertible {
    public var location: RecordLocation
    public var message: String

    public init(_ location: RecordLocation, _ message: String) {
        self.location = location
        self.message = message
    }

    public var description: String { "\(location): \(message)" }
}

/// What reading one record gives.
public enum RecordItem: Sendable {
    case record(BillingRecord)
    /// Malformed or unrecognised: reported, and the batch goes on.
    case problem(RecordProblem)
    /// Well-formed but about no billable task (a creation error, an empty response).
    case ignored(RecordLocation, String)
    /// A manifest row found among the records (a CSV with `task_id` and `path` columns).
    case manifest(ManifestEntry)
}
