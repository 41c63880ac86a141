import ClipKitCore
import Foundation

/// One look at a task.
public struct TaskSnapshot: Sendable, Hashable {
    /// The provider's status word (`PENDING`, `processing`, `Success`…), as it goes into the task record.
    public var status: String
    /// The provider's word in `TaskStatus`'s one vocabulary.
    public var state: TaskStatus
    public var outputURL: String?
    /// The provider's `usage` object exactly as returned.
    public var usage: JSONValue?
    public var contentFlagged: Bool?
    public var error: TaskRecord.TaskError?

    public init(status: String, state: TaskStatus, outputURL: String? = nil, usage: JSONValue? = nil,
                contentFlagged: Bool? = nil, error: TaskRecord.TaskError? = nil) {
        self.status = status
        self.state = state
        self.outputURL = outputURL
        self.usage = usage
        self.contentFlagged = contentFlagged
        self.error = error
    }
}

/// A request turned into the provider's JSON body, images encoded or uploaded, ready to POST.
/// Preparing is separate from submitting so a retried submission never uploads twice.
public struct PreparedSubmission: Sendable, Hashable {
    public var model: String
    public var prompt: String
    /// The body to send, exactly; may hold data URIs.
    public var body: JSONValue
    /// The URL to POST to.
    let url: String

    /// The body as it may be recorded: no secrets, data URIs shortened.
    public var recordableBody: JSONValue { TaskRecord.sanitized(body) }
}

/// A task found by listing the account's recent tasks (to recover from a lost submit answer).
public struct ListedTask: Sendable, Hashable {
    public var taskID: String
    public var model: String?
    public var createdAt: Date?
    /// The prompt, when the listing shows the task's input.
    public var prompt: String?

    public init(taskID: String, model: String?, createdAt: Date?, prompt: String? = nil) {
        self.taskID = taskID
        self.model = model
        self.createdAt = createdAt
        self.prompt = prompt
    }
}

/// A task the provider accepted.
public struct SubmittedTask: Sendable, Hashable {
    public var taskID: String
    /// The status the create answer gave (DashScope `PENDING`, WaveSpeed `created`), if any.
    public var status: String?

    public init(taskID: String, status: String?) {
        self.taskID = taskID
        self.status = status
    }
}

/// One submit attempt that did not return a task id.
public struct SubmitAttemptError: ClipKitError {
    /// False when the provider certainly created no task: it refused (4xx, 429) or the request never
    /// left. True when one may exist: the answer was lost (timeout, connection closed) or a 5xx came back.
    public var mayHaveCreatedTask: Bool
    public var error: ProviderError
    /// The server's `Retry-After`, if it sent one.
    public var retryAfter: Duration?

    /// The underlying error's code.
    public var code: ProviderError.Code { error.code }
    public var description: String { error.description }
}

/// A video-generation API: DashScope (and routers speaking it), WaveSpeed v3, ModelVerse.
/// Clients are stateless values over a shared `HTTPTransport`; `TaskRunner` drives them.
public protocol VideoProvider: Sendable {
    /// Lower-case provider name for records and messages: `dashscope`, `wavespeed`, `modelverse`.
    var name: String { get }
    /// The API base URL (no credentials), recorded as the task's endpoint.
    var endpoint: String { get }
    /// Whether `cancel(taskID:)` exists for this provider.
    var supportsCancel: Bool { get }
    /// Whether `recentTasks` can look for a task after a lost submit answer.
    var supportsTaskListing: Bool { get }
    /// What the client encodes images with; `TaskRunner` probes the clips it downloads with it too.
    var media: any MediaToolkit { get }

    /// Builds the provider's body; encodes images as data URIs or uploads them.
    /// - Throws: `ProviderError.invalidRequest` for a request the model cannot take; upload errors.
    func prepare(_ request: GenerationRequest) async throws -> PreparedSubmission
    /// POSTs once, without retrying; returns the new task.
    /// - Throws: `SubmitAttemptError`, saying whether a task may have been created.
    func submitOnce(_ submission: PreparedSubmission) async throws -> SubmittedTask
    /// Queries a task's status (retrying transient errors).
    /// - Throws: `ProviderError`.
    func status(taskID: String) async throws -> TaskSnapshot
    /// Asks the provider to cancel a queued task.
    /// - Throws: `ProviderError.cancelUnsupported` where the provider has no cancel, or its refusal.
    func cancel(taskID: String) async throws
    /// Tasks of `model` the account created at or after `since`, newest first.
    /// - Throws: `ProviderError`; `ProviderError.invalidRequest` when unsupported.
    func recentTasks(model: String, since: Date) async throws -> [ListedTask]
}
