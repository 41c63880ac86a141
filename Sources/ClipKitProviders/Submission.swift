import ClipKitCore
import Foundation

// Submit, with recovery from a lost answer.
extension TaskRunner {
    /// Submits a prepared request once, retrying only what certainly created no task (429, a refused
    /// connection) and looking for the task a lost answer may have created (`lookForTask`). Returns the
    /// task and whether it was found by listing. A caller that records durably (the service's jobs)
    /// calls this step on its own, then `download`.
    /// - Throws: the provider's refusal, or `ProviderError.submissionUncertain` when a task may exist
    ///   but cannot be found.
    public func submit(_ prepared: PreparedSubmission,
                       events: @Sendable (RunEvent) async -> Void = { _ in }) async throws -> (task: SubmittedTask, recovered: Bool) {
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
                    if let found = try await lookForTask(prepared, since: started, cause: failure.error.description, events: events) {
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

    /// Lists the account's recent tasks of the model for one created since the submission began, other
    /// than this process's and `options.excludedTaskIDs`. Returns its id, nil when none appeared (after
    /// a settle delay and a second look). `cause` says why it is looked for, in messages.
    /// - Throws: `ProviderError.submissionUncertain` when several match or the listing fails.
    public func lookForTask(_ prepared: PreparedSubmission, since started: Date, cause: String,
                            events: @Sendable (RunEvent) async -> Void = { _ in }) async throws -> String? {
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
}

/// Task ids this process has submitted or resumed: never taken for another request's lost task.
actor KnownTasks {
    static let shared = KnownTasks()
    private(set) var ids: Set<String> = []

    func insert(_ id: String) { ids.insert(id) }
}
