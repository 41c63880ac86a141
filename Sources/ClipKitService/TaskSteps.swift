import ClipKitAudit
import ClipKitCore
import ClipKitLedger
import ClipKitMedia
import ClipKitProviders
import Crypto
import Foundation

// The four steps of a task, each one job. A step reads the ledger first and skips what is already done,
// writes files through a temporary name, and reports its result in the transaction that completes its
// job and enqueues the next step (under a unique key), so a rerun after a crash finds its own traces.
extension TaskService {
    // MARK: - Submit

    /// Submits the task at most once. The ledger's attempt row is written before the request is sent; a
    /// rerun that finds a pending attempt (its worker died after sending, before recording the answer)
    /// looks for the task by listing instead of sending again, as `TaskRunner` does for a lost answer.
    func submitStep(_ context: JobContext) async throws {
        let payload = try context.job.payload(as: StepPayload.self)
        let task = try await storedTask(payload.task)
        guard task.providerTaskID == nil, task.state == "submitting" else {
            // Submitted (or refused) by an earlier run: only its follow-up may be missing.
            try await ledger.transaction { tx in
                if task.providerTaskID != nil { _ = try await tx.enqueue(try step(Kind.poll, task: task.id, request: payload.request, round: 0)) }
                try await context.complete(in: tx)
            }
            return
        }
        let client = try providers.client(payload.request.provider)
        let prepared: PreparedSubmission
        do {
            prepared = try await client.prepare(try generationRequest(payload.request))
        } catch let error as ProviderError where !error.isTransient {
            return try await refuse(task, context, code: "clipkit.\(error.code.rawValue)", message: error.description)
        }
        let runner = try await runner(for: client, since: task.createdAt)

        let attempts = try await ledger.read { try await $0.attempts(request: task.id) }
        if let open = attempts.last, open.outcome == .pending {
            guard client.supportsTaskListing else {
                return try await refuse(task, context, code: "clipkit.submissionUncertain",
                                        message: "an earlier run may have submitted task \(task.id) and \(client.name) offers "
                                            + "no task listing to find it; not submitted again")
            }
            let cause = "an earlier run of job \(context.job.id) may have submitted task \(task.id)"
            if let found = try await runner.lookForTask(prepared, since: open.createdAt, cause: cause) {
                return try await accepted(task, SubmittedTask(taskID: found, status: nil), attempt: open.id, prepared: prepared,
                                          payload: payload, context)
            }
            try await ledger.transaction { tx in
                try await tx.finishAttempt(open.id, outcome: .rejected, reason: "interrupted; no task was created (listed twice)")
            }
        }
        let attempt = try await ledger.transaction { try await $0.startAttempt(request: task.id, taskID: task.id) }
        let submitted: SubmittedTask
        do {
            submitted = try await runner.submit(prepared).task
        } catch let error as ProviderError {
            if case .submissionUncertain = error { throw error }  // the attempt stays pending: the rerun lists again
            try await ledger.transaction { tx in try await tx.finishAttempt(attempt.id, outcome: .rejected, reason: error.description) }
            // 429s past the in-job retries: the job backs off, and on its last attempt the task fails (no
            // task was created, so its reservation is released) rather than wait in `submitting` for ever.
            if error.isTransient, !context.isLastAttempt { throw error }
            return try await refuse(task, context, code: "clipkit.\(error.code.rawValue)", message: error.description)
        }
        try await accepted(task, submitted, attempt: attempt.id, prepared: prepared, payload: payload, context)
    }

    /// Records the provider's task id and the body sent, and enqueues the first poll, with the completion.
    private func accepted(_ task: ProviderTaskRecord, _ submitted: SubmittedTask, attempt: String, prepared: PreparedSubmission,
                          payload: StepPayload, _ context: JobContext) async throws {
        try await ledger.transaction { tx in
            guard var current = try await tx.task(task.id) else { throw LedgerError(.notFound, "no task \(task.id) in the ledger") }
            current.providerTaskID = submitted.taskID
            current.request = prepared.recordableBody
            current.state = "queued"
            try await tx.updateTask(current)
            if let word = submitted.status {
                try await tx.recordStatus(TaskStatusChange(status: word, state: Self.state(word, current.provider), at: tx.now),
                                          taskID: task.id)
            }
            try await tx.finishAttempt(attempt, outcome: .accepted, taskID: task.id)
            _ = try await tx.enqueue(try step(Kind.poll, task: task.id, request: payload.request, round: 0))
            try await context.complete(in: tx)
        }
    }

    /// A runner whose lost-answer lookup skips every task id the ledger already holds for this provider.
    private func runner(for client: any VideoProvider, since: Date) async throws -> TaskRunner {
        var options = configuration.runner
        options.overwrite = true
        let known = try await ledger.read { tx in
            try await tx.tasks(since: since.addingTimeInterval(-options.clockSkew.secondsValue - 86_400), limit: 10_000)
        }
        options.excludedTaskIDs.formUnion(known.filter { $0.provider == client.name }.compactMap(\.providerTaskID))
        return TaskRunner(provider: client, transport: providers.transport, options: options)
    }

    // MARK: - Poll

    /// Polls for up to `pollSlice`, recording every status; a finished task enqueues its download, a
    /// failed one is recorded with the provider's code and its reservation released; a running one hands
    /// over to the next round's job, each round polling less often, until the runner's deadline.
    func pollStep(_ context: JobContext) async throws {
        let payload = try context.job.payload(as: StepPayload.self)
        let task = try await storedTask(payload.task)
        guard let providerTaskID = task.providerTaskID else { throw JobFailure.permanent("task \(task.id) was never submitted") }
        let client = try providers.client(payload.request.provider)
        let clock = ContinuousClock()
        let end = clock.now + configuration.pollSlice
        let options = configuration.runner
        let round = payload.round ?? 0
        let interval = min(options.pollInterval * pow(options.pollBackoff, Double(min(round, 60))), options.maxPollInterval)
        while true {
            let snapshot = try await client.status(taskID: providerTaskID)
            try await ledger.transaction { tx in
                guard var current = try await tx.task(task.id) else { return }
                current.usage = snapshot.usage ?? current.usage
                current.contentFlagged = snapshot.contentFlagged ?? current.contentFlagged
                if snapshot.state == .succeeded { current.outputURL = snapshot.outputURL ?? current.outputURL }
                if let error = snapshot.error {
                    current.errorCode = error.code
                    current.errorMessage = error.message
                }
                try await tx.updateTask(current)
                try await tx.recordStatus(TaskStatusChange(status: snapshot.status, state: Self.state(snapshot.state), at: tx.now),
                                          taskID: task.id)
                switch snapshot.state {
                case .succeeded where snapshot.outputURL?.isEmpty == false:
                    _ = try await tx.enqueue(try step(Kind.download, task: task.id, request: payload.request))
                case .succeeded:
                    current.errorCode = "clipkit.result"
                    current.errorMessage = "status \(snapshot.status) without an output URL"
                    try await tx.updateTask(current)
                    try await taskEnded(current, in: tx)
                case .failed, .canceled, .unknown, .expired:
                    if current.errorCode == nil {
                        current.errorCode = snapshot.state == .unknown || snapshot.state == .expired ? "clipkit.taskExpired" : snapshot.status
                        try await tx.updateTask(current)
                    }
                    try await tx.releaseReservations(reference: task.id)
                    try await taskEnded(current, in: tx)
                case .pending, .running:
                    let waited = tx.now.timeIntervalSince(current.createdAt)
                    if waited > options.deadline.secondsValue {
                        // As the CLI's deadline: the task is left at the provider, its reservation held
                        // (it may still be billed), and the task says why nobody follows it any more.
                        current.errorCode = "clipkit.deadlineExceeded"
                        current.errorMessage = "\(client.name) task \(providerTaskID) not finished after \(Int(waited)) s "
                            + "(last status \(snapshot.status)); no longer polled"
                        try await tx.updateTask(current)
                        try await taskEnded(current, in: tx)
                    } else {
                        guard clock.now + interval >= end else { return }
                        _ = try await tx.enqueue(try step(Kind.poll, task: task.id, request: payload.request, round: round + 1,
                                                          runAt: tx.now.addingTimeInterval(interval.secondsValue)))
                    }
                }
                try await context.complete(in: tx)
            }
            if context.completed { return }
            try await Task.sleep(for: interval)
        }
    }

    // MARK: - Download

    /// Downloads the output to `clips/TASK.mp4` through a partial file a rerun continues; a clip already
    /// in place that probes as video is kept. An expired URL (XML/HTML answer) is recorded on the task and
    /// kills the job; a cut transfer is retried by the job's backoff, and recorded on the task when the
    /// last attempt fails too.
    func downloadStep(_ context: JobContext) async throws {
        let payload = try context.job.payload(as: StepPayload.self)
        let task = try await storedTask(payload.task)
        guard let url = task.outputURL, let providerTaskID = task.providerTaskID else {
            throw JobFailure.permanent("task \(task.id) has no output URL to download")
        }
        let path = clipPath(task.id)
        let present = FileManager.default.fileExists(atPath: path) ? await MediaProbe.probe(path) : nil
        if present == nil || present?.error != nil {
            try FileManager.default.createDirectory(atPath: clipsDirectory, withIntermediateDirectories: true)
            let runner = TaskRunner(provider: try providers.client(payload.request.provider), transport: providers.transport,
                                    options: { var options = configuration.runner; options.overwrite = true; return options }())
            do {
                _ = try await runner.download(url: url, taskID: providerTaskID, clipPath: path)
            } catch let error as ProviderError {
                // Recorded on the task when no retry is left: an expired URL, or the job's last attempt.
                let expired = if case .downloadExpired = error { true } else { false }
                guard expired || context.isLastAttempt else { throw error }
                try await ledger.transaction { tx in
                    guard var current = try await tx.task(task.id) else { return }
                    current.errorCode = expired ? "clipkit.downloadExpired" : "clipkit.download"
                    current.errorMessage = error.description
                    try await tx.updateTask(current)
                    try await taskEnded(current, in: tx)
                }
                throw JobFailure.permanent(error.description)
            }
        }
        try await ledger.transaction { tx in
            _ = try await tx.enqueue(try step(Kind.verify, task: task.id, request: payload.request))
            try await context.complete(in: tx)
        }
    }

    // MARK: - Verify

    /// Probes the clip, checks it against what was asked, saves its first and last frames, audits it
    /// against its bill, and records the clip, the billed amount and the findings with the completion
    /// (settling the budget reservation). A rerun that finds the task's clip recorded does nothing.
    func verifyStep(_ context: JobContext) async throws {
        let payload = try context.job.payload(as: StepPayload.self)
        let task = try await storedTask(payload.task)
        if task.clipID != nil {
            try await ledger.transaction { try await context.complete(in: $0) }
            return
        }
        let path = clipPath(task.id)
        var info = await MediaProbe.probe(path)
        if let problem = info.error, info.video == nil {
            let message = "clips/\(task.id).mp4 is not a playable clip: \(problem)"
            try await ledger.transaction { tx in
                guard var current = try await tx.task(task.id) else { return }
                current.errorCode = "clipkit.\(problem.code.rawValue)"
                current.errorMessage = message
                try await tx.updateTask(current)
                try await taskEnded(current, in: tx)
            }
            throw JobFailure.permanent(message)
        }
        let voiceSeconds = try await payload.request.voice.asyncMap { try await self.voiceSeconds($0) } ?? nil
        let failures = payload.request.requirements(voiceSeconds: voiceSeconds).failures(of: info)
        try FileManager.default.createDirectory(atPath: framesDirectory, withIntermediateDirectories: true)
        var frames: [String: String] = [:]
        for (name, position) in [("first", FramePosition.first), ("last", .last)] {
            let relative = "frames/\(task.id)-\(name).png"
            try await FrameExtractor.extract(position, from: path).write(to: dataDirectory + "/" + relative, overwrite: true)
            frames[name] = relative
        }
        let (billed, findings) = try audit(task, clipPath: path, info: info, voiceSeconds: voiceSeconds)
        let digest = try Self.sha256(ofFile: path)
        info.path = "clips/\(task.id).mp4"
        let probe = try JSONValue(encoding: info)
        let verification = JSONValue.object(["passed": .bool(failures.isEmpty), "failures": try JSONValue(encoding: failures)])
        let clipID = "clip_" + task.id.dropFirst("task_".count)
        try await ledger.transaction { tx in
            guard var current = try await tx.task(task.id), current.clipID == nil else { return try await context.complete(in: tx) }
            if try await tx.clip(clipID) == nil {
                try await tx.insertClip(ClipRecord(
                    id: clipID, path: "clips/\(task.id).mp4", sha256: digest, byteCount: Self.fileSize(path),
                    sourceURL: current.outputURL.map(Self.withoutQuery), taskID: task.id, probe: probe, verification: verification,
                    frames: frames))
            }
            current.clipID = clipID
            current.billed = billed
            try await tx.updateTask(current)
            try await taskEnded(current, in: tx)
            if !findings.isEmpty { try await tx.recordFindings(findings, batch: "task:\(task.id)") }
            if let billed {
                try await tx.settle(reference: task.id, spent: billed)
            } else {
                try await tx.releaseReservations(reference: task.id)
            }
            try await context.complete(in: tx)
        }
    }

    /// The audit of one task against its clip: the amount it was billed (the price book applied to its
    /// usage) and what the checks dispute; an s2v task's billed seconds are checked against its voice too.
    func audit(_ task: ProviderTaskRecord, clipPath: String, info: MediaInfo,
               voiceSeconds: Double?) throws -> (billed: Money?, findings: [Finding]) {
        var audit = Audit(priceBook: configuration.priceBook)
        audit.add(try LedgerAudit.item(task, clipPath: clipPath, voiceSeconds: voiceSeconds))
        let report = audit.finish(clips: ClipIndex(root: clipsDirectory, clips: [clipPath])) { $0 == clipPath ? info : nil }
        let billed = report.summary.billedTasks == 1 && report.summary.unpricedTasks == 0 ? report.summary.totals.first?.billed : nil
        return (billed, report.findings)
    }

    // MARK: - Helpers

    /// Records a submission the provider refused (or that cannot be made): the task failed with `code`, its
    /// reservation released, the job completed (retrying cannot help).
    private func refuse(_ task: ProviderTaskRecord, _ context: JobContext, code: String, message: String) async throws {
        try await ledger.transaction { tx in
            guard var current = try await tx.task(task.id) else { return }
            current.state = "failed"
            current.errorCode = code
            current.errorMessage = message
            try await tx.updateTask(current)
            try await tx.releaseReservations(reference: task.id)
            try await taskEnded(current, in: tx)
            try await context.complete(in: tx)
        }
    }

    func storedTask(_ id: String) async throws -> ProviderTaskRecord {
        guard let task = try await ledger.read({ try await $0.task(id) }) else {
            throw JobFailure.permanent("no task \(id) in the ledger")
        }
        return task
    }

    /// The ledger's state word for a provider status.
    static func state(_ status: TaskStatus) -> String {
        switch status {
        case .pending: "queued"
        case .running: "running"
        case .succeeded: "succeeded"
        case .failed: "failed"
        case .canceled: "canceled"
        case .expired, .unknown: "unknown"
        }
    }

    static func state(_ word: String, _ provider: String) -> String { state(TaskStatus(word, provider: provider)) }

    static func sha256(ofFile path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw TaskServiceError(.invalidRequest, "cannot read \(path) to hash it")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    static func fileSize(_ path: String) -> Int64 {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.int64Value ?? 0
    }

    /// A URL without its query: a presigned URL's signature is a credential.
    static func withoutQuery(_ url: String) -> String { String(url.prefix { $0 != "?" }) }
}

extension Duration {
    var secondsValue: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
