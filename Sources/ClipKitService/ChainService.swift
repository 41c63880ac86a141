import ClipKitAudit
import ClipKitChain
import ClipKitCore
import ClipKitLedger
import ClipKitMedia
import ClipKitProviders
import Foundation

/// A storyboard to generate and join over the service (`POST /v1/chains`): what `clipkit chain` reads,
/// with its images and voices as http(s) URLs or `data:` URIs (never server paths), and an optional
/// budget of its own.
public struct ChainRequest: Sendable, Hashable, Codable {
    public var storyboard: Storyboard
    /// Overrides the storyboard's `defaults.provider`.
    public var provider: String?
    /// What the chain may spend: its submissions are reserved on a budget `chain:ID` with this limit (and
    /// on the account's), and a storyboard whose estimate is over it is refused before anything is paid.
    public var budget: Money?

    public init(storyboard: Storyboard, provider: String? = nil, budget: Money? = nil) {
        self.storyboard = storyboard
        self.provider = provider
        self.budget = budget
    }
}

// A chain over the service is two job kinds on top of the task steps. `chain.advance` looks at the
// chain's tasks and takes the next step: it accepts a verified segment (its exact last frame becomes the
// next segment's first), opens the next segment's task (or a new attempt of a failed or rejected one),
// waits for a task still under way, or enqueues the join. It runs at the start and whenever one of the
// chain's tasks ends, and decides from the ledger alone, so running it twice does nothing twice: a task
// is opened once per segment and attempt (its request key). `chain.join` concatenates the accepted clips
// (the repeated seam frame dropped, colour matched to the first) with a contact sheet of the seams.
extension TaskService {
    /// The most segments one chain may have.
    static let maxSegments = 100

    struct ChainPayload: Codable, Sendable {
        var chain: String
    }

    // MARK: - Requests

    /// Records a chain and enqueues its first step; returns at once (HTTP 202) with the chain, state
    /// `running`. Every segment is checked as `submit` checks a request, and priced: with a budget, a
    /// storyboard whose estimate is over it is refused. The same `idempotencyKey` again returns the same
    /// chain; with another request it is refused.
    /// - Throws: `TaskServiceError`, `ProviderError.missingAPIKey` / `.modeUnsupported`,
    ///   `LedgerError.budgetExceeded` / `.currencyMismatch`, `LedgerError.idempotencyKeyReused`.
    @discardableResult
    public func startChain(_ request: ChainRequest, idempotencyKey: String? = nil) async throws -> ChainSummary {
        func invalid(_ message: String) -> TaskServiceError { TaskServiceError(.invalidRequest, message) }
        let storyboard = request.storyboard
        guard let provider = request.provider ?? storyboard.defaults.provider, !provider.isEmpty else {
            throw invalid("name a provider: provider, or the storyboard's defaults.provider")
        }
        guard (1...Self.maxSegments).contains(storyboard.segments.count) else {
            throw invalid("a storyboard has 1…\(Self.maxSegments) segments, not \(storyboard.segments.count)")
        }
        if let resolution = storyboard.defaults.resolution, Tier(parsing: resolution) == nil {
            throw invalid("resolution must be 480P, 720P or 1080P, not '\(resolution)'")
        }
        if let budget = request.budget, !budget.isPositive { throw invalid("budget must be a positive amount, not \(budget)") }
        let plans = segmentPlans(storyboard, provider: try providers.client(provider))
        // A later segment starts from its predecessor's last frame, not known yet: a URL stands in for it.
        let standIn = "https://clipkit.invalid/last-frame-of-the-previous-segment.png"
        for position in storyboard.segments.indices {
            do {
                try segmentRequest(storyboard, plans[position], provider: provider, image: standIn).validate()
            } catch let error as TaskServiceError {
                throw TaskServiceError(error.code, "segment \(position + 1): \(error.description)")
            }
        }
        let fingerprint = requestFingerprint(try Self.canonicalJSON(request))
        var stored = storyboard
        stored.firstImage = try stored.firstImage.map { try saveInput($0, field: "firstImage", kind: .image) }
        for i in stored.segments.indices {
            stored.segments[i].lastImage = try stored.segments[i].lastImage.map { try saveInput($0, field: "lastImage", kind: .image) }
            stored.segments[i].audio = try stored.segments[i].audio.map { try saveInput($0, field: "audio", kind: .audio) }
        }
        var estimates: [Money] = []
        for position in stored.segments.indices {
            let planned = try await plan(segmentRequest(stored, plans[position], provider: provider, image: standIn))
            if let budget = request.budget {
                guard let estimate = planned.estimate else {
                    throw TaskServiceError(.unpriced, "segment \(position + 1): \(planned.unpriced), so the budget of \(budget) cannot be kept")
                }
                guard estimate.currency == budget.currency else {
                    throw LedgerError(.currencyMismatch, "segment \(position + 1) is priced in \(estimate.currency) but the budget is in \(budget.currency)")
                }
                estimates.append(estimate)
            }
        }
        if let budget = request.budget {
            let total = estimates.reduce(Money.zero(budget.currency), +)
            guard total.amount <= budget.amount else {
                throw LedgerError(.budgetExceeded, "the storyboard's \(estimates.count) segments are estimated at \(total), over the budget of \(budget); nothing submitted")
            }
        }
        let storedJSON = try JSONValue(encoding: stored)
        let id = try await ledger.transaction { tx -> String in
            func create() async throws -> String {
                var chain = ChainRecord(provider: provider, storyboard: storedJSON, state: "running", segmentCount: stored.segments.count)
                if let budget = request.budget {
                    chain.budget = "chain:" + chain.id
                    try await tx.setBudget("chain:" + chain.id, limit: budget)
                }
                try await tx.insertChain(chain)
                try await enqueueAdvance(chain.id, after: "start", in: tx)
                return chain.id
            }
            guard let idempotencyKey else { return try await create() }
            return try await tx.idempotent(scope: "chains", key: idempotencyKey, fingerprint: fingerprint, create: create).resourceID
        }
        guard let chain = try await chain(id: id) else { throw LedgerError(.notFound, "chain \(id) vanished after it was recorded") }
        return chain
    }

    /// The chain as the ledger holds it now: segments with their tasks, the join's report and video.
    public func chain(id: String) async throws -> ChainSummary? {
        try await ledger.read { tx in
            guard let chain = try await tx.chain(id) else { return nil }
            let budget = try await chain.budget.asyncMap { try await tx.budget($0) } ?? nil
            return ChainSummary(chain, tasks: try await tx.tasks(chain: id, limit: 10_000), budget: budget)
        }
    }

    /// Chains newest first, with their segments and tasks.
    public func chains(limit: Int = 100) async throws -> [ChainSummary] {
        var summaries: [ChainSummary] = []
        for listed in try await ledger.read({ try await $0.chains(limit: limit) }) {
            if let summary = try await chain(id: listed.id) { summaries.append(summary) }
        }
        return summaries
    }

    /// Each segment's mode and model, as `clipkit chain` chooses them for the client's protocol.
    private func segmentPlans(_ storyboard: Storyboard, provider client: any VideoProvider) -> [SegmentPlan] {
        ChainRunner.plan(storyboard: storyboard, provider: ProviderKind(rawValue: client.name) ?? .dashscope,
                         priceBook: configuration.priceBook)
    }

    /// The task request of one segment: the storyboard's defaults and the segment's own fields, the
    /// plan's model, and `image` as its first frame (after the first segment).
    private func segmentRequest(_ storyboard: Storyboard, _ plan: SegmentPlan, provider: String, image: String?) -> TaskRequest {
        let segment = storyboard.segments[plan.index]
        let talking = plan.mode == .s2v
        return TaskRequest(
            provider: provider, model: plan.model, prompt: segment.prompt,
            negativePrompt: segment.negativePrompt ?? storyboard.defaults.negativePrompt,
            image: plan.index == 0 ? storyboard.firstImage : image, lastImage: segment.lastImage,
            resolution: storyboard.defaults.resolution, duration: talking ? nil : storyboard.secondsPerSegment,
            seed: segment.seed ?? storyboard.defaults.seed, audio: talking ? nil : storyboard.defaults.audio, voice: segment.audio)
    }

    // MARK: - Advance

    /// What `chain.advance` finds to do: segments to accept, then one action.
    struct ChainProgress: Equatable {
        enum Action: Equatable {
            /// The chain is not running (joining, joined, failed): nothing to do.
            case none
            /// A segment's task is under way; its end runs `chain.advance` again.
            case wait
            case generate(segment: Int, attempt: Int, request: TaskRequest)
            case join
            case fail(String)
        }
        var accepted: [ChainSegmentRecord] = []
        var action: Action
    }

    func advanceChainStep(_ context: JobContext) async throws {
        let id = try context.job.payload(as: ChainPayload.self).chain
        let found = try await ledger.read { try await self.progress(of: id, in: $0) }
        var planned: PlannedTask?
        if case .generate(_, _, let request) = found.action {
            do {
                planned = try await plan(request)
            } catch let error as TaskServiceError {
                return try await failChain(id, error.description, context)
            } catch let error as ProviderError where !error.isTransient {
                return try await failChain(id, error.description, context)
            }
        }
        do {
            try await ledger.transaction { tx in
                guard let chain = try await tx.chain(id) else { return try await context.complete(in: tx) }
                // Decided again in the transaction: another run may have acted since (then this one does nothing).
                let progress = try await self.progress(of: id, in: tx)
                guard progress == found else { return try await context.complete(in: tx) }
                for segment in progress.accepted { try await tx.updateSegment(segment, chainID: id) }
                switch progress.action {
                case .none, .wait:
                    break
                case .generate(let position, let attempt, _):
                    guard let planned else { break }
                    _ = try await open(planned, in: tx, requestKey: "chain:\(id):\(position):\(attempt)",
                                       budgets: (chain.budget.map { [$0] } ?? []) + configuration.budgets, chain: (id, position))
                    try await tx.updateSegment(ChainSegmentRecord(position: position, state: "generating"), chainID: id)
                case .join:
                    try await tx.updateChain(id, state: "joining")
                    _ = try await tx.enqueue(NewJob(kind: Kind.chainJoin, encoding: ChainPayload(chain: id), uniqueKey: "chain.join:\(id)",
                                                    maxAttempts: configuration.maxAttempts))
                case .fail(let reason):
                    try await Self.markFailed(id, reason, in: tx)
                }
                try await context.complete(in: tx)
            }
        } catch let error as LedgerError where error.code == .budgetExceeded || error.code == .currencyMismatch {
            try await failChain(id, error.message, context)
        } catch let error as TaskServiceError {
            try await failChain(id, error.description, context)
        }
    }

    /// Reads the chain and its tasks and decides the next step (see `ChainProgress`).
    private func progress(of id: String, in tx: LedgerTransaction) async throws -> ChainProgress {
        guard let chain = try await tx.chain(id) else { throw JobFailure.permanent("no chain \(id) in the ledger") }
        guard chain.state == "running" else { return ChainProgress(action: .none) }
        let storyboard = try chain.storyboard.decoded(as: Storyboard.self)
        let plans = segmentPlans(storyboard, provider: try providers.client(chain.provider))
        let tasks = try await tx.tasks(chain: id, limit: 10_000)  // newest first
        var progress = ChainProgress(action: .join)
        var previousFrame: String?
        for var segment in chain.segments {
            defer { previousFrame = segment.lastFramePath }
            if segment.state == "accepted" { continue }
            let attempts = tasks.filter { $0.segment == segment.position }
            if let last = attempts.first {
                if let clipID = last.clipID {
                    if let clip = try await tx.clip(clipID), Self.passed(clip), last.contentFlagged != true {
                        segment.state = "accepted"
                        segment.clipID = clipID
                        segment.lastFramePath = clip.frames["last"]
                        progress.accepted.append(segment)
                        continue
                    }
                    // Paid for but not as asked (short, wrong tier, flagged): a new attempt replaces it.
                } else if !Self.ended(last) {
                    progress.action = .wait
                    return progress
                }
            }
            guard attempts.count < configuration.segmentAttempts else {
                let reasons = try await attempts.reversed().asyncMap { try await Self.reason($0, in: tx) }
                progress.action = .fail("segment \(segment.position + 1) failed \(attempts.count) times, giving up: "
                    + reasons.joined(separator: "; "))
                return progress
            }
            let request = segmentRequest(storyboard, plans[segment.position], provider: chain.provider, image: previousFrame)
            progress.action = .generate(segment: segment.position, attempt: attempts.count + 1, request: request)
            return progress
        }
        return progress
    }

    private func failChain(_ id: String, _ reason: String, _ context: JobContext) async throws {
        try await ledger.transaction { tx in
            try await Self.markFailed(id, reason, in: tx)
            try await context.complete(in: tx)
        }
    }

    /// A failed chain: its state, and the reason as its report's `error`.
    private static func markFailed(_ id: String, _ reason: String, in tx: LedgerTransaction) async throws {
        try await tx.updateChain(id, state: "failed", report: .object(["error": .string(reason)]))
    }

    /// Enqueues `chain.advance` once per cause (`start`, or the id of the task whose end it follows).
    private func enqueueAdvance(_ chain: String, after cause: String, in tx: LedgerTransaction) async throws {
        _ = try await tx.enqueue(NewJob(kind: Kind.chainAdvance, encoding: ChainPayload(chain: chain),
                                        uniqueKey: "chain.advance:\(chain):\(cause)", maxAttempts: configuration.maxAttempts))
    }

    /// Called in the transaction that records a task's end (its clip verified, or its failure for good):
    /// a chain's task wakes its chain.
    func taskEnded(_ task: ProviderTaskRecord, in tx: LedgerTransaction) async throws {
        guard let chain = task.chainID else { return }
        try await enqueueAdvance(chain, after: task.id, in: tx)
    }

    /// A task that will not bring a clip: failed at the provider or on the way (an error recorded).
    private static func ended(_ task: ProviderTaskRecord) -> Bool {
        task.clipID == nil && (["failed", "canceled", "unknown"].contains(task.state) || task.errorCode != nil)
    }

    private static func passed(_ clip: ClipRecord) -> Bool {
        clip.verification?["passed"]?.boolValue ?? false
    }

    /// Why an attempt was not accepted, for the chain's error.
    private static func reason(_ task: ProviderTaskRecord, in tx: LedgerTransaction) async throws -> String {
        if task.contentFlagged == true { return "\(task.id): content flagged by the provider" }
        if let clipID = task.clipID, let clip = try await tx.clip(clipID), let failures = clip.verification?["failures"] {
            let text = (try? Self.canonicalJSON(failures)).map { String(decoding: $0, as: UTF8.self) } ?? "see the clip's verification"
            return "\(task.id): not as asked: \(text)"
        }
        return "\(task.id): " + (task.errorMessage ?? task.errorCode ?? task.state)
    }

    // MARK: - Join

    /// Joins the accepted clips into `chains/ID.mp4` (seam frames dropped, colour matched to the first
    /// clip) with a contact sheet of the seams, and records the report. A rerun writes the same files again.
    /// A join that cannot be done (the clips do not concatenate) fails the chain at once; any other error
    /// (the disk, the contact sheet) is retried, and fails the chain when it ends the job for good, so that
    /// no chain is left joining for ever.
    func joinChainStep(_ context: JobContext) async throws {
        let id = try context.job.payload(as: ChainPayload.self).chain
        do {
            try await join(id, context)
        } catch {
            if context.endsForGood(error) {
                try? await ledger.transaction { tx in
                    // Another run may have joined it meanwhile (this one's lease was lost).
                    guard try await tx.chain(id)?.state == "joining" else { return }
                    try await Self.markFailed(id, "the join failed for good: \(error)", in: tx)
                }
            }
            throw error
        }
    }

    private func join(_ id: String, _ context: JobContext) async throws {
        let (chain, clips) = try await ledger.read { tx -> (ChainRecord?, [ClipRecord]) in
            guard let chain = try await tx.chain(id) else { return (nil, []) }
            var clips: [ClipRecord] = []
            for segment in chain.segments {
                if let clipID = segment.clipID, let clip = try await tx.clip(clipID) { clips.append(clip) }
            }
            return (chain, clips)
        }
        guard let chain, chain.state == "joining" else { return try await ledger.transaction { try await context.complete(in: $0) } }
        guard clips.count == chain.segments.count else {
            return try await failChain(id, "only \(clips.count) of \(chain.segments.count) segments have a clip to join", context)
        }
        try FileManager.default.createDirectory(atPath: dataDirectory + "/chains", withIntermediateDirectories: true)
        let video = "chains/\(id).mp4", sheet = "chains/\(id)-seams.png"
        let result: ConcatResult
        do {
            result = try await Concatenator.concat(clips.map { dataDirectory + "/" + $0.path }, to: dataDirectory + "/" + video,
                                                   options: ConcatOptions(seam: .drop, colorMatch: .first), overwrite: true)
        } catch let error as ConcatError {
            return try await failChain(id, "the join failed: \(error)", context)
        }
        try await ContactSheet.render(result).write(to: dataDirectory + "/" + sheet, overwrite: true)
        let report = JSONValue.object(["concat": try JSONValue(encoding: result.report), "contactSheet": .string(sheet)])
        try await ledger.transaction { tx in
            try await tx.updateChain(id, state: "joined", outputPath: video, report: report)
            try await context.complete(in: tx)
        }
    }
}

extension Array {
    func asyncMap<U>(_ transform: (Element) async throws -> U) async rethrows -> [U] {
        var mapped: [U] = []
        mapped.reserveCapacity(count)
        for element in self { mapped.append(try await transform(element)) }
        return mapped
    }
}
