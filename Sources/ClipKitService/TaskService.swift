import ClipKitAudit
import ClipKitCore
import ClipKitLedger
import ClipKitMedia
import ClipKitProviders
import Crypto
import Foundation

/// Turns generation requests into durable jobs in the ledger and runs them: submit once, poll, download,
/// verify (probe, requirements, first and last frames, the clip and its bill recorded); and storyboards
/// into chains of such tasks, joined (ChainService.swift). The HTTP front end calls `submit`, `task(id:)`,
/// `tasks(status:since:)`, `startChain` and `chain(id:)`; every node that runs jobs registers
/// `handlers()` with its `JobWorker`. Each step is one job, safe to run again (delivery is at least once);
/// see docs/ledger.md, "Task jobs".
public final class TaskService: Sendable {
    /// The job kinds the service enqueues and handles.
    public enum Kind {
        public static let submit = "task.submit"
        public static let poll = "task.poll"
        public static let download = "task.download"
        public static let verify = "task.verify"
        /// A recorded provider webhook delivery (see `enqueueWebhook`).
        public static let webhook = "task.webhook"
        /// A chain's next step, and its join (see ChainService.swift).
        public static let chainAdvance = "chain.advance"
        public static let chainJoin = "chain.join"
        public static let all = [submit, poll, download, verify, webhook, chainAdvance, chainJoin]
    }

    public struct Configuration: Sendable {
        /// How one poll job spends its time: it polls for up to this long, then hands over to the next
        /// round's job, so that no job holds a worker place for the whole generation.
        public var pollSlice: Duration
        /// Polling (`pollInterval`, growing by `pollBackoff` per round up to `maxPollInterval`; polling stops
        /// `deadline` after the request), submit retries inside one job (429s), listing settle and clock skew
        /// for recovering a lost answer, download resumes inside one job.
        public var runner: RunnerOptions
        /// Prices for budget estimates and the bill.
        public var priceBook: PriceBook
        /// Budgets each submission is reserved on, when they exist in the ledger (`setBudget`).
        public var budgets: [String]
        /// Claims allowed per step job before it is dead.
        public var maxAttempts: Int
        /// Tasks tried per chain segment (failed ones and clips not as asked) before the chain fails, as
        /// `clipkit chain --max-attempts`.
        public var segmentAttempts: Int

        public init(pollSlice: Duration = .seconds(20), runner: RunnerOptions = RunnerOptions(), priceBook: PriceBook = .builtIn,
                    budgets: [String] = ["account"], maxAttempts: Int = 8, segmentAttempts: Int = 3) {
            self.pollSlice = pollSlice
            self.runner = runner
            self.priceBook = priceBook
            self.budgets = budgets
            self.maxAttempts = maxAttempts
            self.segmentAttempts = segmentAttempts
        }
    }

    public let ledger: any LedgerStore
    /// Holds `clips/`, `frames/` and `inputs/` (a shared mount when several machines run jobs).
    public let dataDirectory: String
    public let providers: ProviderDirectory
    public let configuration: Configuration

    public init(ledger: any LedgerStore, dataDirectory: String, providers: ProviderDirectory,
                configuration: Configuration = Configuration()) {
        self.ledger = ledger
        self.dataDirectory = dataDirectory
        self.providers = providers
        self.configuration = configuration
    }

    // MARK: - Requests

    /// Records a request and enqueues its submission; returns at once (HTTP 202) with the task, state
    /// `submitting`. The same `idempotencyKey` again returns the same task and makes no second job; with
    /// another request it is refused. When a configured budget exists, the request's estimate is reserved
    /// on it in the same transaction, so concurrent requests never pass its limit.
    /// - Throws: `TaskServiceError` (invalid request, unknown provider, unpriced under a budget),
    ///   `ProviderError.missingAPIKey` / `.modeUnsupported`, `LedgerError.budgetExceeded`,
    ///   `LedgerError.idempotencyKeyReused`, `LedgerError` when the database fails.
    @discardableResult
    public func submit(_ request: TaskRequest, idempotencyKey: String? = nil) async throws -> TaskSummary {
        try request.validate()
        let fingerprint = requestFingerprint(try Self.canonicalJSON(request))
        let planned = try await plan(request)
        let id = try await ledger.transaction { tx -> String in
            func create() async throws -> String {
                try await open(planned, in: tx, requestKey: "request:" + UUID().uuidString.lowercased(),
                               budgets: configuration.budgets).id
            }
            guard let idempotencyKey else { return try await create() }
            return try await tx.idempotent(scope: "tasks", key: idempotencyKey, fingerprint: fingerprint, create: create)
                .resourceID
        }
        guard let task = try await task(id: id) else { throw LedgerError(.notFound, "task \(id) vanished after it was recorded") }
        return task
    }

    /// A request ready to be recorded: its inputs kept under the data directory, its model settled, its
    /// price estimated.
    struct PlannedTask: Sendable {
        /// As the step jobs carry it: images and the voice as URLs or paths relative to the data directory.
        var stored: TaskRequest
        /// As the ledger records it before submission.
        var recorded: JSONValue
        var provider: String
        var endpoint: String
        var model: String
        var estimate: Money?
        /// Why there is no estimate, when there is none.
        var unpriced: String
    }

    /// Checks that the provider offers the request's mode, keeps its `data:` inputs (a request already in
    /// stored form passes through), settles the model and estimates the price (s2v: by the voice's seconds).
    /// - Throws: `TaskServiceError`, `ProviderError.missingAPIKey` / `.modeUnsupported`.
    func plan(_ request: TaskRequest) async throws -> PlannedTask {
        let client = try providers.client(request.provider)
        var stored = request
        let mode = try generationRequest(stored).mode
        if let kind = ProviderKind(rawValue: client.name), !kind.supports(mode) {
            throw ProviderError.modeUnsupported(provider: client.name, mode: mode, model: request.model ?? "")
        }
        if stored.model == nil { stored.model = ProviderKind(rawValue: client.name)?.defaultModel(for: mode) }
        let model = stored.model ?? ""
        stored.image = try stored.image.map { try saveInput($0, field: "image", kind: .image) }
        stored.lastImage = try stored.lastImage.map { try saveInput($0, field: "lastImage", kind: .image) }
        stored.voice = try stored.voice.map { try saveInput($0, field: "voice", kind: .audio) }
        // s2v is billed by the voice's seconds; a voice given by URL is not fetched, so its length is unknown.
        let voiceSeconds: Double?
        do {
            voiceSeconds = try await stored.voice.asyncMap { try await self.voiceSeconds($0) } ?? nil
        } catch {
            if request.voice?.hasPrefix("data:") == true, let voice = stored.voice {
                try? FileManager.default.removeItem(atPath: dataDirectory + "/" + voice)
            }
            throw error
        }
        let billedSeconds = request.voice == nil ? request.duration.map { Decimal($0) }
            : voiceSeconds.map { Rounding.halfUp.round(Decimal($0), scale: 2) }
        let rule = configuration.priceBook.rule(provider: client.name, model: model, tier: request.tier)
        let estimate = request.voice != nil && billedSeconds == nil ? nil : rule?.charge(seconds: billedSeconds)
        let unpriced = rule == nil ? "no price for \(client.name) \(model) \(request.resolution ?? "")"
            : "the length of a voice given by URL is unknown until it is billed (send it as a data: URI)"
        return PlannedTask(stored: stored, recorded: try JSONValue(encoding: request), provider: client.name,
                           endpoint: client.endpoint, model: model, estimate: estimate, unpriced: unpriced)
    }

    /// Records a planned task (once per `requestKey`: an existing one is returned as it is), reserves its
    /// estimate on those of `budgets` that exist, and enqueues its submission, in the caller's transaction.
    /// - Throws: `TaskServiceError.unpriced` when a budget exists and the task has no estimate,
    ///   `LedgerError.budgetExceeded`.
    func open(_ planned: PlannedTask, in tx: LedgerTransaction, requestKey: String, budgets: [String],
              chain: (id: String, segment: Int)? = nil) async throws -> ProviderTaskRecord {
        let (task, created) = try await tx.insertTask(ProviderTaskRecord(
            requestKey: requestKey, provider: planned.provider, model: planned.model, endpoint: planned.endpoint,
            request: planned.recorded, chainID: chain?.id, segment: chain?.segment))
        guard created else { return task }
        var held: [String] = []
        for name in budgets {
            if try await tx.budget(name) != nil { held.append(name) }
        }
        if !held.isEmpty {
            guard let estimate = planned.estimate else {
                throw TaskServiceError(.unpriced, planned.unpriced + ", so the budget \(held.joined(separator: ", ")) cannot be kept")
            }
            try await tx.reserve(estimate, on: held, reference: task.id)
        }
        _ = try await tx.enqueue(try step(Kind.submit, task: task.id, request: planned.stored))
        return task
    }

    /// The task as the ledger holds it now, with its status history, usage, bill, output URL and clip.
    public func task(id: String) async throws -> TaskSummary? {
        try await ledger.read { tx in
            guard let task = try await tx.task(id) else { return nil }
            let clip = try await task.clipID.asyncMap { try await tx.clip($0) } ?? nil
            return TaskSummary(task, clip: clip)
        }
    }

    /// Tasks newest first, optionally in one state (`submitting`, `queued`, `running`, `succeeded`,
    /// `failed`, `canceled`, `unknown`) and created since a time.
    public func tasks(status: String? = nil, since: Date? = nil, limit: Int = 100) async throws -> [TaskSummary] {
        try await ledger.read { tx in
            var summaries: [TaskSummary] = []
            for task in try await tx.tasks(state: status, since: since, limit: limit) {
                let clip = try await task.clipID.asyncMap { try await tx.clip($0) } ?? nil
                summaries.append(TaskSummary(task, clip: clip))
            }
            return summaries
        }
    }

    // MARK: - Jobs

    /// The handlers of every task job kind, for a `JobWorker` (the server's and `clipkit worker`'s).
    public func handlers() -> [String: JobWorker.Handler] {
        [
            Kind.submit: { try await self.submitStep($0) },
            Kind.poll: { try await self.pollStep($0) },
            Kind.download: endingTaskWhenDead { try await self.downloadStep($0) },
            Kind.verify: endingTaskWhenDead { try await self.verifyStep($0) },
            Kind.webhook: { try await self.webhookStep($0) },
            Kind.chainAdvance: { try await self.advanceChainStep($0) },
            Kind.chainJoin: { try await self.joinChainStep($0) },
        ]
    }

    /// A download or verify job that dies (its last attempt failed, or retrying cannot help) leaves its task
    /// without a clip for good: the task records why (unless the step already did), so that a chain
    /// waiting on it tries again. A dead submission or poll is left as it is: the provider may have the
    /// task, and trying again could pay twice (`GET /v1/jobs?state=dead` shows it).
    private func endingTaskWhenDead(_ step: @escaping JobWorker.Handler) -> JobWorker.Handler {
        { context in
            do {
                try await step(context)
            } catch {
                if context.endsForGood(error), let id = try? context.job.payload(as: StepPayload.self).task {
                    try? await self.ledger.transaction { tx in
                        guard var task = try await tx.task(id), task.clipID == nil, task.errorCode == nil else { return }
                        task.errorCode = "clipkit.stepFailed"
                        task.errorMessage = "\(context.job.kind) failed for good: \(error)"
                        try await tx.updateTask(task)
                        try await self.taskEnded(task, in: tx)
                    }
                }
                throw error
            }
        }
    }

    /// What every step job carries: the ledger task and the request as stored (images as URLs or files
    /// under the data directory; no secrets).
    struct StepPayload: Codable, Sendable {
        var task: String
        var request: TaskRequest
        /// The poll round (each round is its own job).
        var round: Int?
    }

    func step(_ kind: String, task: String, request: TaskRequest, round: Int? = nil, runAt: Date? = nil,
              key: String? = nil) throws -> NewJob {
        let key = key ?? [kind, task, round.map(String.init)].compactMap { $0 }.joined(separator: ":")
        return try NewJob(kind: kind, encoding: StepPayload(task: task, request: request, round: round), uniqueKey: key,
                          runAt: runAt, maxAttempts: configuration.maxAttempts)
    }

    // MARK: - Files

    var clipsDirectory: String { dataDirectory + "/clips" }
    var framesDirectory: String { dataDirectory + "/frames" }

    func clipPath(_ taskID: String) -> String { LedgerAudit.clipPath(taskID, in: dataDirectory) }

    /// A data URI saved as `inputs/SHA256.EXT` (the same bytes, the same file) and named by that relative
    /// path; a URL, or a path already relative to the data directory, as given.
    func saveInput(_ reference: String, field: String, kind: InputData.Kind) throws -> String {
        guard reference.hasPrefix("data:") else { return reference }
        let (bytes, ext) = try InputData.decode(dataURI: reference, field: field, kind: kind)
        let relative = "inputs/" + SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined() + "." + ext
        let path = dataDirectory + "/" + relative
        if !FileManager.default.fileExists(atPath: path) {
            try FileManager.default.createDirectory(atPath: dataDirectory + "/inputs", withIntermediateDirectories: true)
            try OutputFile(path, overwrite: true).write(bytes)
        }
        return relative
    }

    /// Seconds of sound a stored voice decodes to (nil for one given by URL).
    /// - Throws: `TaskServiceError.invalidRequest` when it is not sound ClipKit can decode.
    func voiceSeconds(_ stored: String) async throws -> Double? {
        guard !InputData.isURL(stored) else { return nil }
        let info = await MediaProbe.probeAudio(dataDirectory + "/" + stored)
        guard info.error == nil, let seconds = info.audio?.duration, seconds > 0 else {
            throw TaskServiceError(.invalidRequest, "voice is not a sound ClipKit can decode: \(info.error?.message ?? "no sound")")
        }
        return seconds
    }

    /// The provider-neutral request of a stored one.
    func generationRequest(_ request: TaskRequest) throws -> GenerationRequest {
        func file(_ reference: String) -> String? { InputData.isURL(reference) ? nil : dataDirectory + "/" + reference }
        func image(_ reference: String) -> ImageInput { file(reference).map { .file($0) } ?? .url(reference) }
        return GenerationRequest(
            model: request.model ?? "", prompt: request.prompt, negativePrompt: request.negativePrompt,
            firstImage: request.image.map(image), lastImage: request.lastImage.map(image), resolution: request.tier,
            size: request.size, duration: request.duration, seed: request.seed, audio: request.audio,
            inputAudio: request.voice.map { file($0).map { .file($0) } ?? .url($0) })
    }

    static func canonicalJSON<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }
}

extension Optional {
    func asyncMap<U>(_ transform: (Wrapped) async throws -> U) async rethrows -> U? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
