import ClipKitAudit
import ClipKitCore
import ClipKitLedger
import Foundation

/// A task as the API shows it (`GET /v1/tasks/{id}`): what was asked (secrets removed), how its status
/// moved, what it cost as billed, and the clip it produced with its frames.
public struct TaskSummary: Sendable, Hashable, Codable {
    public var id: String
    public var provider: String
    public var model: String
    /// The provider's task id, once it accepted the task.
    public var providerTaskID: String?
    /// `submitting`, `queued`, `running`, `succeeded`, `failed`, `canceled`, `unknown`.
    public var state: String
    /// The provider's latest status word.
    public var status: String?
    public var statusHistory: [TaskStatusChange]
    /// The request as recorded: the client's before submission, the provider's body (secrets removed,
    /// inline images shortened) after.
    public var request: JSONValue?
    /// The provider's `usage` as returned.
    public var usage: JSONValue?
    /// The amount billed (exact), once the clip is verified and priced.
    public var billed: Money?
    public var outputURL: String?
    public var contentFlagged: Bool?
    public var error: TaskRecord.TaskError?
    public var clip: Clip?
    public var createdAt: Date
    public var updatedAt: Date

    /// The verified clip: paths relative to the data directory.
    public struct Clip: Sendable, Hashable, Codable {
        public var id: String
        public var path: String
        public var sha256: String
        public var byteCount: Int64
        public var probe: JSONValue
        public var verification: JSONValue?
        /// `first`, `last` → `frames/…png`.
        public var frames: [String: String]
    }

    public init(_ task: ProviderTaskRecord, clip: ClipRecord?) {
        id = task.id
        provider = task.provider
        model = task.model
        providerTaskID = task.providerTaskID
        state = task.state
        status = task.status
        statusHistory = task.statusHistory
        request = task.request
        usage = task.usage
        billed = task.billed
        outputURL = task.outputURL
        contentFlagged = task.contentFlagged
        error = task.errorCode == nil && task.errorMessage == nil
            ? nil : TaskRecord.TaskError(code: task.errorCode, message: task.errorMessage)
        self.clip = clip.map {
            Clip(id: $0.id, path: $0.path, sha256: $0.sha256, byteCount: $0.byteCount, probe: $0.probe,
                 verification: $0.verification, frames: $0.frames)
        }
        createdAt = task.createdAt
        updatedAt = task.updatedAt
    }
}
