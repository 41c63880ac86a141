import ClipKitCore
import Foundation

/// One problem the audit found, with the money at stake.
public struct Finding: Sendable, Hashable, Codable {
    /// What the finding is, for a program to switch on.
    public enum Code: String, Sendable, Hashable, Codable, CaseIterable {
        /// The delivered video is shorter than the seconds billed (beyond the tolerance).
        case durationShort
        /// s2v: the seconds billed run past the voice sent, which the clip's length follows.
        case billedBeyondAudio
        /// The delivered resolution tier is not the tier billed.
        case tierMismatch
        /// The frame count does not match frame rate × duration.
        case frameCountInconsistent
        /// The model delivers audio (wan2.5, or s2v's voice) but the clip has none.
        case audioMissing
        /// s2v: the clip's voice track ends before its video does.
        case audioShort
        /// The model is silent (wan2.2) but the clip has audio.
        case audioUnexpected
        /// No clip was found for a billed task.
        case clipMissing
        /// The file is not a video (an expired-URL error page saved as .mp4, an empty file).
        case notVideo
        /// The file is cut short or does not decode.
        case truncated
        /// The task failed or was canceled, yet it was billed.
        case failedButBilled
        /// The provider flagged or blocked the content, yet billed it.
        case contentFlaggedButBilled
        /// The same task is billed more than once.
        case duplicateBilling
        /// The billed amount is not the price book's amount for the billed properties.
        case amountMismatch
        /// No price is known for a billed model and tier: nothing can be verified in money.
        case unpriced
        /// A record could not be read.
        case recordUnreadable
    }

    /// An error disputes money; a warning asks for a look.
    public enum Severity: String, Sendable, Hashable, Codable, Comparable, CaseIterable {
        case warning, error

        public static func < (a: Severity, b: Severity) -> Bool { a == .warning && b == .error }
    }

    public var code: Code
    public var severity: Severity
    public var taskID: String?
    public var provider: String?
    public var model: String?
    /// The clip checked, if any.
    public var clip: String?
    /// The record that carries the charge (or could not be read).
    public var record: RecordLocation?
    /// What is wrong, naming the task and the file.
    public var message: String
    /// How much was billed beyond what the delivered clip supports, in the bill's currency; zero for
    /// a finding that costs nothing by itself, nil when the amount cannot be known.
    public var overBilled: Money?

    public init(
        code: Code, severity: Severity, taskID: String? = nil, provider: String? = nil, model: String? = nil,
        clip: String? = nil, record: RecordLocation? = nil, message: String, overBilled: Money?
    ) {
        self.code = code
        self.severity = severity
        self.taskID = taskID
        self.provider = provider
        self.model = model
        self.clip = clip
        self.record = record
        self.message = message
        self.overBilled = overBilled
    }
}
