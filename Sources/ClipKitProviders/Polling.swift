import ClipKitCore
import Foundation

extension TaskRunner {
    /// Polls until a terminal state, appending every change to the record (saved each time).
    func poll(_ record: inout TaskRecord, recordPath: String,
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
                case .unknown, .expired:
                    throw ProviderError.taskExpired(provider: provider.name, taskID: record.taskID, status: snapshot.status)
                case .pending, .running:
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
}
