import ClipKitCore
import ClipKitMedia
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

/// Drives one task through submit → poll → download for any `VideoProvider`, keeping its
/// `TaskRecord` up to date on disk (`clip.task.json`) at every step, so a killed process can
/// `resume` from the record without submitting again.
public struct TaskRunner: Sendable {
    public let provider: any VideoProvider
    public var options: RunnerOptions
    private let transport: HTTPTransport

    public init(provider: any VideoProvider, transport: HTTPTransport, options: RunnerOptions = RunnerOptions()) {
        self.provider = provider
        self.transport = transport
        self.options = options
    }

    /// Generates one clip at `clipPath`.
    ///
    /// `onSubmitted` is awaited with the first record (task id, request, endpoint) right after the
    /// provider accepts the task and before polling starts, so a caller can persist the id durably; if
    /// it throws, the run stops (the task keeps running at the provider and can be resumed).
    /// - Throws: `ProviderError` (the record on disk says how far the task got), `OutputFileError`.
    public func run(_ request: GenerationRequest, clipPath: String,
                    onSubmitted: @Sendable (TaskRecord) async throws -> Void = { _ in },
                    events: @Sendable (RunEvent) async -> Void = { _ in }) async throws -> RunResult {
        let recordPath = TaskRecord.path(forClip: clipPath)
        // Refused before the provider is paid: a clip or record that could not be saved would be lost.
        try OutputFile(clipPath, overwrite: options.overwrite).checkWritable()
        try OutputFile(recordPath, overwrite: true).checkWritable()
        await events(.preparing)
        let prepared = try await provider.prepare(request)
        let (task, recovered) = try await submit(prepared, events: events)
        await KnownTasks.shared.insert(task.taskID)
        var record = TaskRecord(provider: provider.name, model: request.model, taskID: task.taskID,
                                endpoint: provider.endpoint, request: prepared.recordableBody)
        if let status = task.status { record.statusHistory.append(.init(status: status, at: Date())) }
        try RecordFile.write(record, to: recordPath)
        await events(.submitted(taskID: task.taskID, recovered: recovered))
        try await onSubmitted(record)
        return try await finish(record, clipPath: clipPath, recordPath: recordPath, events: events)
    }

    /// Continues a task from its saved record: polls it and downloads its clip, never submitting.
    /// A clip already in place that probes as video is returned as is.
    /// - Throws: `ProviderError`, `OutputFileError`.
    public func resume(_ record: TaskRecord, clipPath: String,
                       events: @Sendable (RunEvent) async -> Void = { _ in }) async throws -> RunResult {
        let recordPath = TaskRecord.path(forClip: clipPath)
        if record.outputFile != nil, FileManager.default.fileExists(atPath: clipPath) {
            let info = MediaProbe.probe(clipPath)
            if info.error == nil { return RunResult(record: record, clipPath: clipPath, recordPath: recordPath, media: info) }
        }
        await KnownTasks.shared.insert(record.taskID)
        var resumed = record
        resumed.error = nil
        return try await finish(resumed, clipPath: clipPath, recordPath: recordPath, events: events)
    }

    /// Asks the provider to cancel the task of `record` (queued tasks only, where supported).
    /// - Throws: `ProviderError.cancelUnsupported` or the provider's refusal.
    public func cancel(_ record: TaskRecord) async throws {
        try await provider.cancel(taskID: record.taskID)
    }

    // MARK: - Submit, with recovery from a lost answer

    private func submit(_ prepared: PreparedSubmission,
                        events: @Sendable (RunEvent) async -> Void) async throws -> (SubmittedTask, Bool) {
        let started = Date()
        var attempt = 0
        while true {
            attempt += 1
            await events(.submitting(attempt: attempt))
            let failure: SubmitAttemptError
            do {
                return (try await provider.submitOnce(prepared), false)
            } catch let error as SubmitAttemptError {
                failure = error
            }
            let retryable: Bool
            if failure.mayHaveCreatedTask {
                if provider.supportsTaskListing {
                    await events(.retrying(reason: "\(failure.error); looking for the task it may have created",
                                           delay: .zero))
                    if let found = try await lookForTask(prepared, since: started, cause: failure.error, events: events) {
                        return (SubmittedTask(taskID: found, status: nil), true)
                    }
                    retryable = true  // listed twice, nothing new: no task was created
                } else if case .http(_, _, let status, _, _) = failure.error, status >= 500 {
                    // No listing to check, but the server answered: its error status is taken at its word.
                    retryable = true
                } else {
                    throw ProviderError.submissionUncertain(
                        provider: provider.name, model: prepared.model, since: started, candidates: [],
                        "\(failure.error); \(provider.name) offers no task listing to look for it")
                }
            } else {
                retryable = failure.error.isTransient
            }
            guard retryable, attempt < options.submitRetry.maxAttempts else { throw failure.error }
            let delay = options.submitRetry.delay(afterAttempt: attempt, retryAfter: failure.retryAfter,
                                                  random: .random(in: 0...1))
            if let wait = failure.retryAfter, wait > options.submitRetry.maxRetryAfter { throw failure.error }
            await events(.retrying(reason: failure.error.description, delay: delay))
            try await Task.sleep(for: delay)
        }
    }

    /// Lists the account's recent tasks of the model for one created since the submission began.
    /// Returns its id, nil when none appeared (after a settle delay and a second look).
    /// - Throws: `ProviderError.submissionUncertain` when several match or the listing fails.
    private func lookForTask(_ prepared: PreparedSubmission, since started: Date, cause: ProviderError,
                             events: @Sendable (RunEvent) async -> Void) async throws -> String? {
        let since = started.addingTimeInterval(-options.clockSkew.seconds)
        let known = await KnownTasks.shared.ids.union(options.excludedTaskIDs)
        for round in 0..<2 {
            if round > 0 {
                await events(.retrying(reason: "no task listed yet; looking again", delay: options.listingSettle))
                try await Task.sleep(for: options.listingSettle)
            }
            let listed: [ListedTask]
            do {
                listed = try await provider.recentTasks(model: prepared.model, since: since)
            } catch {
                throw ProviderError.submissionUncertain(provider: provider.name, model: prepared.model, since: started,
                                                        candidates: [], "\(cause); listing to look for it failed: \(error)")
            }
            let candidates = listed.filter { task in
                !known.contains(task.taskID) && (task.model == nil || task.model == prepared.model)
                    && (task.createdAt.map { $0 >= since } ?? true) && (task.prompt.map { $0 == prepared.prompt } ?? true)
            }
            if candidates.count == 1 { return candidates[0].taskID }
            if candidates.count > 1 {
                throw ProviderError.submissionUncertain(provider: provider.name, model: prepared.model, since: started,
                                                        candidates: candidates.map(\.taskID), "\(cause); several new tasks match")
            }
        }
        return nil
    }

    // MARK: - Poll and download

    private func finish(_ start: TaskRecord, clipPath: String, recordPath: String,
                        events: @Sendable (RunEvent) async -> Void) async throws -> RunResult {
        var record = start
        let snapshot: TaskSnapshot
        do {
            snapshot = try await poll(&record, recordPath: recordPath, events: events)
        } catch let error as ProviderError {
            if case .taskFailed = error {} else if case .taskExpired = error {} else {
                record.error = TaskRecord.TaskError(code: "clipkit.poll", message: error.description)
            }
            try? RecordFile.write(record, to: recordPath)
            throw error
        }
        guard let url = snapshot.outputURL, !url.isEmpty else {
            let error = ProviderError.badResponse(provider: provider.name, operation: "result of task \(record.taskID)",
                                                  "status \(snapshot.status) without an output URL")
            record.error = TaskRecord.TaskError(code: "clipkit.result", message: error.description)
            try? RecordFile.write(record, to: recordPath)
            throw error
        }
        record.outputURL = url
        try RecordFile.write(record, to: recordPath)

        let downloader = Downloader(transport: transport, maxResumes: options.maxDownloadResumes, retry: options.downloadRetry)
        let result: Downloader.Result
        do {
            result = try await downloader.download(
                url: url, taskID: record.taskID, partialPath: Self.partialPath(clipPath: clipPath, taskID: record.taskID),
                destination: clipPath, overwrite: options.overwrite,
                progress: { bytes, total in await events(.downloading(bytes: bytes, total: total)) })
        } catch let error as ProviderError {
            let code: String = if case .downloadExpired = error { "clipkit.downloadExpired" } else { "clipkit.download" }
            record.error = TaskRecord.TaskError(code: code, message: error.description)
            try? RecordFile.write(record, to: recordPath)
            throw error
        }
        record.outputFile = URL(fileURLWithPath: clipPath).lastPathComponent
        record.error = nil
        try RecordFile.write(record, to: recordPath)
        await events(.downloaded(result.info))
        return RunResult(record: record, clipPath: clipPath, recordPath: recordPath, media: result.info)
    }

    /// Polls until a terminal state, appending every change to the record (saved each time).
    private func poll(_ record: inout TaskRecord, recordPath: String,
                      events: @Sendable (RunEvent) async -> Void) async throws -> TaskSnapshot {
        let clock = ContinuousClock()
        let begin = clock.now
        var interval = options.pollInterval
        var lastFailure: ProviderError?
        while true {
            do {
                let snapshot = try await provider.status(taskID: record.taskID)
                lastFailure = nil
                if snapshot.status != record.status {
                    record.statusHistory.append(.init(status: snapshot.status, at: Date()))
                    record.usage = snapshot.usage ?? record.usage
                    record.contentFlagged = snapshot.contentFlagged ?? record.contentFlagged
                    record.error = snapshot.error
                    try RecordFile.write(record, to: recordPath)
                    await events(.status(snapshot))
                } else if snapshot.usage != nil, snapshot.usage != record.usage {
                    record.usage = snapshot.usage
                    try RecordFile.write(record, to: recordPath)
                }
                switch snapshot.state {
                case .succeeded:
                    record.usage = snapshot.usage ?? record.usage
                    record.contentFlagged = snapshot.contentFlagged ?? record.contentFlagged
                    return snapshot
                case .failed, .canceled:
                    throw ProviderError.taskFailed(provider: provider.name, taskID: record.taskID, status: snapshot.status,
                                                   code: snapshot.error?.code, message: snapshot.error?.message)
                case .unknown:
                    throw ProviderError.taskExpired(provider: provider.name, taskID: record.taskID, status: snapshot.status)
                case .queued, .running:
                    break
                }
            } catch let error as ProviderError where error.isTransient {
                // The status call already retried; keep polling until the deadline rather than give up on a paid task.
                lastFailure = error
            }
            let elapsed = clock.now - begin
            guard elapsed < options.deadline else {
                if let lastFailure { throw lastFailure }
                throw ProviderError.deadlineExceeded(provider: provider.name, taskID: record.taskID,
                                                     lastStatus: record.status, seconds: elapsed.seconds)
            }
            try await Task.sleep(for: min(interval, options.deadline - elapsed))
            interval = min(interval * options.pollBackoff, options.maxPollInterval)
        }
    }

    /// Where a clip downloads before it is verified: hidden, beside the clip, named after the task so
    /// a resumed process continues the same transfer.
    static func partialPath(clipPath: String, taskID: String) -> String {
        let url = URL(fileURLWithPath: clipPath)
        let safeID = String(taskID.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" })
        return url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.deletingPathExtension().lastPathComponent).\(safeID).part.mp4").path
    }
}

/// Task ids this process has submitted or resumed: never taken for another request's lost task.
actor KnownTasks {
    static let shared = KnownTasks()
    private(set) var ids: Set<String> = []

    func insert(_ id: String) { ids.insert(id) }
}

/// Reads and writes `NAME.task.json` atomically.
public enum RecordFile {
    /// Writes `record` to `path` through a temporary file (replacing any previous version).
    /// - Throws: `OutputFileError`.
    public static func write(_ record: TaskRecord, to path: String) throws {
        let data = try TaskRecord.makeEncoder().encode(record)
        try OutputFile(path, overwrite: true).write(data + Data("\n".utf8))
    }

    /// Reads a record written by `write`.
    /// - Throws: `ProviderError.invalidRequest` naming the file.
    public static func read(_ path: String) throws -> TaskRecord {
        do {
            return try TaskRecord.makeDecoder().decode(TaskRecord.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw ProviderError.invalidRequest(provider: "clipkit", "cannot read task record \(path): \(error)")
        }
    }
}
