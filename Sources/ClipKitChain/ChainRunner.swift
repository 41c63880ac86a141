import ClipKitAudit
import ClipKitCore
import ClipKitMedia
import ClipKitProviders
import Foundation

/// Runs a storyboard to one long video: each segment generated from the previous clip's exact last
/// frame, verified and recorded as it arrives, and all of it joined without seams. Every step is saved
/// in the work directory first, so running the same chain again after a kill pays for nothing twice.
/// Its media work (probes, last frames, the join) runs on `MediaExecutor`, and cancelling the task that
/// runs it stops it at the next step (a poll, a frame of the join) with `CancellationError`; the work
/// directory keeps what was done, and running it again resumes.
public actor ChainRunner {
    public let storyboard: Storyboard
    public let options: ChainOptions
    private var state: ChainState
    private let statePath: String
    private let plans: [SegmentPlan]

    /// - Throws: `ChainError` if the work directory holds a different chain; `OutputFileError` if the
    ///   output cannot be written (checked first, before anything is submitted or created).
    public init(storyboard: Storyboard, options: ChainOptions) throws {
        self.storyboard = storyboard
        self.options = options
        plans = Self.plan(storyboard: storyboard, options: options)
        // Whether it may replace an existing output is decided at the join; here only whether it can be written.
        try OutputFile(options.output, overwrite: true).checkWritable()
        try FileManager.default.createDirectory(atPath: options.workDirectory, withIntermediateDirectories: true)
        statePath = options.workDirectory + "/chain.json"
        if let saved = try ChainState.load(statePath) {
            guard saved.storyboard == storyboard, saved.provider == options.provider.rawValue else {
                throw ChainError(.workDirectoryInUse, "\(options.workDirectory) holds another chain (different storyboard or provider)")
            }
            state = saved
        } else {
            state = ChainState(storyboard: storyboard, provider: options.provider.rawValue)
        }
    }

    /// The segments as they will be requested, with the price book's estimate for each (no network).
    public static func plan(storyboard: Storyboard, options: ChainOptions) -> [SegmentPlan] {
        plan(storyboard: storyboard, provider: options.provider, priceBook: options.priceBook)
    }

    /// The plan for a provider and price book, before any client or transport exists.
    public static func plan(storyboard: Storyboard, provider: ProviderKind, priceBook: PriceBook) -> [SegmentPlan] {
        storyboard.segments.indices.map { i in
            let mode = mode(of: i, in: storyboard)
            let model = model(of: i, mode: mode, in: storyboard, provider: provider)
            let seconds = seconds(of: i, in: storyboard)
            let estimate = seconds.flatMap {
                priceBook.rule(provider: provider.rawValue, model: model, tier: storyboard.tier)?.charge(seconds: $0)
            }
            return SegmentPlan(index: i, prompt: storyboard.segments[i].prompt, mode: mode, model: model,
                               seconds: seconds.map { NSDecimalNumber(decimal: $0).doubleValue } ?? 0, tier: storyboard.tier,
                               estimate: estimate)
        }
    }

    /// Generates (or resumes) every segment, joins them and writes the chain report.
    /// - Parameter events: awaited with each step, in order (concat progress included).
    /// - Throws: `ChainError` (budget, a segment that kept failing), `ProviderError` for a failure that
    ///   a later run can resume from, `ConcatError`, `CancellationError`.
    public func run(events: @escaping @Sendable (ChainEvent) async -> Void = { _ in }) async throws -> ChainReport {
        let provider = try options.provider.client(credentials: options.credentials, transport: options.transport,
                                                   media: options.media, baseURL: options.baseURL)
        let runner = TaskRunner(provider: provider, transport: options.transport, options: options.runner)
        for plan in plans {
            try Task.checkCancellation()
            try await runSegment(plan, count: plans.count, runner: runner, events: events)
        }
        return try await join(plans, events: events)
    }

    // MARK: - Segments

    private func runSegment(_ plan: SegmentPlan, count: Int, runner: TaskRunner,
                            events: @escaping @Sendable (ChainEvent) async -> Void) async throws {
        let i = plan.index
        if let clip = state.segments[i].clip, await MediaProbe.probe(clip).error == nil {
            if state.segments[i].colorMatch == nil { try await measureColor(i, clip: clip) }
            try await saveLastFrame(of: i, clip: clip)
            await events(.reused(index: i, clip: clip))
            return
        }
        await events(.segmentStarted(index: i, count: count, mode: plan.mode, model: plan.model, estimate: plan.estimate))
        var requirements = ClipRequirements(tier: plan.tier, duration: plan.seconds, rule: options.asBilled)
        if plan.mode == .s2v {
            // As long as its voice and carrying it throughout; a voice given by URL has no known length.
            if plan.seconds > 0 { requirements.requireVoice(seconds: plan.seconds) } else { requirements.duration = nil }
            requirements.audio = true
            requirements.soundtrackCoversVideo = true
        }
        while true {
            let result: RunResult
            do {
                try adoptOrphanedSubmission(i, estimate: plan.estimate)
                if let pending = state.segments[i].attempts.last, pending.outcome == .pending {
                    await events(.resuming(index: i, taskID: pending.taskID))
                    let record = try RecordFile.read(pending.record)
                    result = try await runner.resume(record, clipPath: pending.clip) { await events(.task(index: i, $0)) }
                } else {
                    let attempt = state.segments[i].attempts.count + 1
                    guard attempt <= options.maxAttempts else {
                        let reasons = state.segments[i].attempts.compactMap(\.reason).joined(separator: "; ")
                        throw ChainError(.attemptsExhausted, "segment \(i + 1) failed \(options.maxAttempts) times, giving up: \(reasons)")
                    }
                    try checkBudget(plan)
                    let clip = clipPath(segment: i, attempt: attempt)
                    let request = try request(for: plan)
                    result = try await runner.run(request, clipPath: clip, onSubmitted: { record in
                        try await self.recordSubmission(i, record: record, clip: clip, estimate: plan.estimate)
                    }, events: { await events(.task(index: i, $0)) })
                }
            } catch let error as ProviderError {
                guard case .some(let reason) = Self.generationFailure(error) else { throw error }
                try settleLastAttempt(i, outcome: .failed, reason: reason)
                await events(.attemptFailed(index: i, reason: reason, willRetry: state.segments[i].attempts.count < options.maxAttempts))
                continue
            }
            // A clip that is not what was billed (short, wrong tier) or that the provider flagged is paid for
            // but not used: the next attempt replaces it, and the audit reports the money.
            let problems = (result.contentFlagged ? ["content flagged by the provider"] : [])
                + requirements.failures(of: result.media).map(\.description)
            if !problems.isEmpty {
                let reason = problems.joined(separator: "; ")
                try settleLastAttempt(i, outcome: .rejected, reason: reason)
                await events(.attemptFailed(index: i, reason: reason, willRetry: state.segments[i].attempts.count < options.maxAttempts))
                continue
            }
            // The clip is saved with its acceptance: a kill during the colour measurement or the last frame
            // must resume from this clip, not pay for a new one.
            state.segments[i].clip = result.clipPath
            try settleLastAttempt(i, outcome: .accepted, reason: nil)
            try await measureColor(i, clip: result.clipPath)
            try await saveLastFrame(of: i, clip: result.clipPath)
            await events(.accepted(index: i, clip: result.clipPath))
            return
        }
    }

    /// The path the next attempt's clip gets; deterministic, so a record left there can be found again.
    private func clipPath(segment i: Int, attempt: Int) -> String {
        options.workDirectory + String(format: "/segment-%02d-try%d.mp4", i + 1, attempt)
    }

    /// A task record beside the next attempt's clip that `chain.json` does not know: the process died
    /// between the provider accepting the task and the chain saving it. Adopt it instead of paying again.
    private func adoptOrphanedSubmission(_ i: Int, estimate: Money?) throws {
        let clip = clipPath(segment: i, attempt: state.segments[i].attempts.count + 1)
        let recordPath = TaskRecord.path(forClip: clip)
        guard FileManager.default.fileExists(atPath: recordPath) else { return }
        let record = try RecordFile.read(recordPath)
        try recordSubmission(i, record: record, clip: clip, estimate: estimate)
    }

    /// The task id is on disk before polling starts: a kill from here on resumes this task.
    private func recordSubmission(_ i: Int, record: TaskRecord, clip: String, estimate: Money?) throws {
        state.segments[i].attempts.append(.init(taskID: record.taskID, clip: clip, record: TaskRecord.path(forClip: clip),
                                                outcome: .pending, reason: nil, estimate: estimate))
        try state.save(statePath)
    }

    private func settleLastAttempt(_ i: Int, outcome: ChainState.Attempt.Outcome, reason: String?) throws {
        guard let last = state.segments[i].attempts.indices.last else { return }
        state.segments[i].attempts[last].outcome = outcome
        state.segments[i].attempts[last].reason = reason
        try state.save(statePath)
    }

    /// Failures that end a generation without a usable clip (retrying means a new task); anything else
    /// (network, deadline, an uncertain submission) stops the chain so a later run can resume it.
    private static func generationFailure(_ error: ProviderError) -> String? {
        switch error {
        case .taskFailed, .taskExpired, .downloadExpired: error.description
        default: nil
        }
    }

    private func checkBudget(_ plan: SegmentPlan) throws {
        guard let budget = options.budget else { return }
        guard let estimate = plan.estimate else {
            throw ChainError(.unpriced, "segment \(plan.index + 1): no price for \(options.provider.rawValue) \(plan.model) \(plan.tier.rawValue), so the budget of \(budget) cannot be kept")
        }
        guard estimate.currency == budget.currency else {
            throw ChainError(.currencyMismatch, "segment \(plan.index + 1) is priced in \(estimate.currency) but the budget is in \(budget.currency)")
        }
        let committed = state.committed[budget.currency] ?? .zero(budget.currency)
        if (committed + estimate).amount > budget.amount {
            throw ChainError(.budgetExceeded, "segment \(plan.index + 1) (\(estimate)) would bring the spend to \(committed + estimate), over the budget of \(budget); not submitted")
        }
    }

    private func saveLastFrame(of i: Int, clip: String) async throws {
        let path = options.workDirectory + String(format: "/segment-%02d-last.png", i + 1)
        if state.segments[i].lastFrame == path, FileManager.default.fileExists(atPath: path) { return }
        let last = try await FrameExtractor.extractFrame(.last, from: clip, matrix: matrix(for: plans[i].model))
        try await last.image.write(to: path, overwrite: true)
        state.segments[i].lastFrame = path
        state.segments[i].matrix = last.color.matrix
        try state.save(statePath)
    }

    // MARK: - Colour

    /// Closes the colour loop on an arrived clip: which matrix brings its first frame closest to the
    /// image it was generated from (none for t2v or a remote first image).
    private func measureColor(_ i: Int, clip: String) async throws {
        let sent = i == 0 ? storyboard.firstImage.flatMap { $0.contains("://") ? nil : $0 } : state.segments[i - 1].lastFrame
        guard let sent else { return }
        state.segments[i].colorMatch = try await MatrixMatch.measure(clip: clip, sent: try await RGBImage.load(sent))
        try state.save(statePath)
    }

    /// The matrix a model's clips are read with from its first decisive measurement on; before one,
    /// each clip's own evidence.
    private func matrix(for model: String) -> MatrixChoice {
        matrices[model].map { $0 == .bt709 ? .bt709 : .bt601 } ?? .auto
    }

    /// Each measured model's matrix: its earliest segment whose measurement is decisive.
    private var matrices: [String: ColorMatrix] {
        var found: [String: ColorMatrix] = [:]
        for (segment, plan) in zip(state.segments, plans) where found[plan.model] == nil {
            if let match = segment.colorMatch, match.isDecisive { found[plan.model] = match.matrix }
        }
        return found
    }

    // MARK: - Requests

    private static func mode(of i: Int, in storyboard: Storyboard) -> GenerationMode {
        if storyboard.segments[i].lastImage != nil { return .kf2v }
        if storyboard.segments[i].audio != nil { return .s2v }
        return i == 0 && storyboard.firstImage == nil ? .t2v : .i2v
    }

    private static func model(of i: Int, mode: GenerationMode, in storyboard: Storyboard, provider: ProviderKind) -> String {
        let defaults = storyboard.defaults
        let byMode = switch mode {
        case .t2v: defaults.t2vModel
        case .i2v: defaults.i2vModel
        case .kf2v: defaults.kf2vModel
        case .s2v: defaults.s2vModel
        }
        // `model` names the chain's video model; a talking segment is another family and never takes it.
        let shared = mode == .s2v ? nil : defaults.model
        return storyboard.segments[i].model ?? byMode ?? shared ?? provider.defaultModel(for: mode)
    }

    /// Seconds a segment will be billed for: the storyboard's, or an s2v segment's voice to the hundredth
    /// (nil when the voice is a URL or cannot be read: then it cannot be priced ahead).
    private static func seconds(of i: Int, in storyboard: Storyboard) -> Decimal? {
        guard let audio = storyboard.segments[i].audio else { return Decimal(storyboard.secondsPerSegment) }
        guard !audio.contains("://"), let voice = MediaProbe.probeAudio(audio).audio?.duration else { return nil }
        return Rounding.halfUp.round(Decimal(voice), scale: 2)
    }

    private func request(for plan: SegmentPlan) throws -> GenerationRequest {
        let i = plan.index, segment = storyboard.segments[i]
        let first: ImageInput?
        if i == 0 {
            first = storyboard.firstImage.map { $0.contains("://") ? .url($0) : .file($0) }
        } else {
            guard let frame = state.segments[i - 1].lastFrame else { throw ChainError(.missingLastFrame, "segment \(i + 1) has no last frame of segment \(i) to continue from") }
            first = .file(frame)
        }
        return GenerationRequest(model: plan.model, prompt: segment.prompt,
                                 negativePrompt: segment.negativePrompt ?? storyboard.defaults.negativePrompt,
                                 firstImage: first, lastImage: segment.lastImage.map { $0.contains("://") ? .url($0) : .file($0) },
                                 resolution: plan.tier, duration: plan.mode == .s2v ? nil : storyboard.secondsPerSegment,
                                 seed: segment.seed ?? storyboard.defaults.seed,
                                 audio: plan.mode == .s2v ? nil : storyboard.defaults.audio,
                                 inputAudio: segment.audio.map { $0.contains("://") ? .url($0) : .file($0) })
    }

    // MARK: - Join and report

    private func join(_ plans: [SegmentPlan], events: @escaping @Sendable (ChainEvent) async -> Void) async throws -> ChainReport {
        let clips = state.segments.compactMap(\.clip)
        await events(.joining(clips: clips.count))
        // The output is ours to replace if an earlier run of this chain wrote it.
        let overwrite = options.overwrite || state.output == options.output
        // Clips of a measured model are read with its matrix, as their last frames were.
        var concat = options.concat
        for (segment, plan) in zip(state.segments, plans) where matrix(for: plan.model) != .auto {
            if let clip = segment.clip { concat.matrices[clip] = matrix(for: plan.model) }
        }
        let result = try await Self.concat(clips, to: options.output, options: concat, overwrite: overwrite, events: events)
        state.output = options.output
        try state.save(statePath)
        try Task.checkCancellation()

        let sheet = options.workDirectory + "/seams.png"
        try await ContactSheet.render(result).write(to: sheet, overwrite: true)

        // The audit reads the task records beside every clip that was paid for, accepted or not.
        var audit = Audit(priceBook: options.priceBook, options: AuditOptions(asBilled: options.asBilled))
        let records = state.segments.flatMap(\.attempts).map(\.record).filter { FileManager.default.fileExists(atPath: $0) }
        for record in records { RecordReader.read(file: record) { audit.add($0) } }
        let index = try ClipIndex(scanning: options.workDirectory)
        let auditReport = try await audit.run(clips: index) { try await MediaProbe.probeAll($0) }

        let reportFile = options.workDirectory + "/chain-report.json"
        let report = ChainReport(
            output: options.output,
            segments: plans.map {
                let segment = state.segments[$0.index]
                return .init(plan: $0, attempts: segment.attempts, clip: segment.clip, colorMatch: segment.colorMatch, matrix: segment.matrix)
            },
            estimatedSpend: state.committed.values.sorted { $0.currency < $1.currency }, concat: result.report,
            colorMatrices: matrices,
            audit: auditReport.summary, findings: auditReport.findings, contactSheet: sheet, reportFile: reportFile)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        try OutputFile(reportFile, overwrite: true).write(try encoder.encode(report))
        return report
    }

    /// The join, its progress (reported on the media thread) passed on to `events` in order.
    private static func concat(_ clips: [String], to output: String, options: ConcatOptions, overwrite: Bool,
                               events: @escaping @Sendable (ChainEvent) async -> Void) async throws -> ConcatResult {
        let (updates, feed) = AsyncStream.makeStream(of: ConcatProgress.self)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { for await update in updates { await events(.concat(update)) } }
            defer { feed.finish() }  // the forwarder drains what was sent, then the group ends
            return try await Concatenator.concat(clips, to: output, options: options, overwrite: overwrite) { feed.yield($0) }
        }
    }
}
