import ClipKitCore
import Foundation

/// What the runner is doing, reported in order through `TaskRunner`'s `events` callback.
public enum RunEvent: Sendable {
    /// Encoding or uploading images and building the provider's body.
    case preparing
    /// Sending the create request (attempt counts from 1).
    case submitting(attempt: Int)
    /// A submit attempt failed and will be retried after `delay` (or a lost answer is being looked up).
    case retrying(reason: String, delay: Duration)
    /// The provider accepted the task. `recovered` is true when the id was found by listing after a lost answer.
    case submitted(taskID: String, recovered: Bool)
    /// The task's status changed (the provider's word and the neutral state).
    case status(TaskSnapshot)
    /// Bytes of the clip on disk so far, and the total when known.
    case downloading(bytes: Int64, total: Int64?)
    /// The clip is verified and in place.
    case downloaded(MediaInfo)
}

/// How patiently the runner polls and how it recovers.
public struct RunnerOptions: Sendable {
    /// First wait between status queries; grows by `pollBackoff` up to `maxPollInterval`.
    public var pollInterval: Duration
    public var maxPollInterval: Duration
    public var pollBackoff: Double
    /// Overall limit for polling one task; past it the task is left running and resumable.
    public var deadline: Duration
    /// Retries of the create request when the provider certainly created nothing (429, refused connection).
    public var submitRetry: RetryPolicy
    /// Retries of a download that was cut or answered 5xx.
    public var downloadRetry: RetryPolicy
    public var maxDownloadResumes: Int
    /// After a lost submit answer, how long to wait before listing again (a new task may take a moment to show).
    public var listingSettle: Duration
    /// How far before the submission a listed task's creation time may lie (clock skew).
    public var clockSkew: Duration
    /// Task ids that are known not to be this request's (e.g. a chain's earlier segments).
    public var excludedTaskIDs: Set<String>
    /// Replace an existing clip and record.
    public var overwrite: Bool

    public init(pollInterval: Duration = .seconds(3), maxPollInterval: Duration = .seconds(20), pollBackoff: Double = 1.5,
                deadline: Duration = .seconds(3600), submitRetry: RetryPolicy = RetryPolicy(),
                downloadRetry: RetryPolicy = RetryPolicy(initialDelay: .seconds(1)), maxDownloadResumes: Int = 6,
                listingSettle: Duration = .seconds(3), clockSkew: Duration = .seconds(120),
                excludedTaskIDs: Set<String> = [], overwrite: Bool = false) {
        self.pollInterval = pollInterval
        self.maxPollInterval = maxPollInterval
        self.pollBackoff = pollBackoff
        self.deadline = deadline
        self.submitRetry = submitRetry
        self.downloadRetry = downloadRetry
        self.maxDownloadResumes = maxDownloadResumes
        self.listingSettle = listingSettle
        self.clockSkew = clockSkew
        self.excludedTaskIDs = excludedTaskIDs
        self.overwrite = overwrite
    }
}

/// A finished generation: the clip in place and its task record beside it.
public struct RunResult: Sendable {
    public var record: TaskRecord
    public var clipPath: String
    public var recordPath: String
    /// The downloaded clip as probed.
    public var media: MediaInfo
    /// The provider flagged the output (it was still billed and saved; the caller decides what to do).
    public var contentFlagged: Bool { record.contentFlagged == true }
}
