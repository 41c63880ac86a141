import ClipKitCore
import Foundation

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
                                endpoint: provider.endpoint, request: prepared.recordableBody,
                                inputAudioDuration: prepared.inputAudioDuration)
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
            let info = await provider.media.probe(clipPath)
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

    // MARK: - Poll, then download

    func finish(_ start: TaskRecord, clipPath: String, recordPath: String,
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

        let info: MediaInfo
        do {
            info = try await download(url: url, taskID: record.taskID, clipPath: clipPath, events: events)
        } catch let error as ProviderError {
            let code: String = if case .downloadExpired = error { "clipkit.downloadExpired" } else { "clipkit.download" }
            record.error = TaskRecord.TaskError(code: code, message: error.description)
            try? RecordFile.write(record, to: recordPath)
            throw error
        }
        record.outputFile = URL(fileURLWithPath: clipPath).lastPathComponent
        record.error = nil
        try RecordFile.write(record, to: recordPath)
        await events(.downloaded(info))
        return RunResult(record: record, clipPath: clipPath, recordPath: recordPath, media: info)
    }

    /// Downloads a task's output to `clipPath` through a hidden partial file named after the task, so a
    /// rerun (a resumed process, a retried job) continues the same transfer with `Range`; the file is
    /// probed before it is renamed into place. Returns the clip as probed.
    /// - Throws: `ProviderError.downloadExpired` (an XML/HTML answer: nothing saved),
    ///   `ProviderError.downloadFailed` (the partial file is kept for the next try), `OutputFileError`.
    public func download(url: String, taskID: String, clipPath: String,
                         events: @Sendable (RunEvent) async -> Void = { _ in }) async throws -> MediaInfo {
        let media = provider.media
        let downloader = Downloader(transport: transport, probe: { await media.probe($0) }, maxResumes: options.maxDownloadResumes,
                                    retry: options.downloadRetry)
        return try await downloader.download(
            url: url, taskID: taskID, partialPath: Self.partialPath(clipPath: clipPath, taskID: taskID),
            destination: clipPath, overwrite: options.overwrite,
            progress: { bytes, total in await events(.downloading(bytes: bytes, total: total)) }).info
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
