import ClipKitCore
import Foundation

/// The audit engine. Records are added one at a time as they are read (none is kept: only a compact
/// per-task state, which merging and duplicate detection need); clips are then matched, probed by
/// the caller, and checked.
///
/// ```swift
/// var audit = Audit(priceBook: .builtIn)
/// RecordReader.read(file: "bill.csv") { audit.add($0) }
/// let clips = try ClipIndex(scanning: "clips")
/// let report = await audit.run(clips: clips) { paths in await MediaProbe.probeAll(paths, deep: false, progress: nil) }
/// ```
public struct Audit: Sendable {
    public let priceBook: PriceBook
    public let options: AuditOptions
    /// One compact state per task, in the order first seen; `taskIndex` finds a task by id.
    private var tasks: [TaskAccount] = []
    private var taskIndex: [String: Int] = [:]
    private var problems: [Finding] = []
    private var manifest: [ManifestEntry] = []
    private var recordCount = 0
    private var ignoredCount = 0

    public init(priceBook: PriceBook = .builtIn, options: AuditOptions = AuditOptions()) {
        self.priceBook = priceBook
        self.options = options
    }

    /// Records read so far.
    public var recordsRead: Int { recordCount }

    /// Adds one item from `RecordReader`.
    public mutating func add(_ item: RecordItem) {
        switch item {
        case .record(let record):
            recordCount += 1
            let key = record.taskID.lowercased()
            if let index = taskIndex[key] {
                tasks[index].merge(record)
            } else {
                taskIndex[key] = tasks.count
                var state = TaskAccount(taskID: record.taskID, first: record.location)
                state.merge(record)
                tasks.append(state)
            }
        case .problem(let problem):
            recordCount += 1
            problems.append(
                Finding(
                    code: .recordUnreadable, severity: .warning, record: problem.location,
                    message: problem.description, overBilled: nil))
        case .ignored:
            recordCount += 1
            ignoredCount += 1
        case .manifest(let entry):
            manifest.append(entry)
        }
    }

    /// Adds manifest rows (task id → clip, model).
    public mutating func add(manifest entries: [ManifestEntry]) {
        manifest.append(contentsOf: entries)
    }

    /// The clip paths to probe: those matched to billed tasks, each once, in task order.
    public func clipPaths(in clips: ClipIndex) -> [String] {
        let index = withManifest(clips)
        var seen = Set<String>()
        var paths: [String] = []
        for state in tasks {
            guard state.isCharged,
                let match = index.match(
                    taskID: state.taskID, outputURLs: state.outputURLs,
                    clipHint: state.clipHint)
            else { continue }
            if seen.insert(match.path).inserted { paths.append(match.path) }
        }
        return paths
    }

    /// Probes the matched clips with `probe` (one call with every path; results in the same order)
    /// and checks every billed task.
    public func run(clips: ClipIndex, probe: ([String]) async -> [MediaInfo]) async -> AuditReport {
        let paths = clipPaths(in: clips)
        let infos = await probe(paths)
        var byPath: [String: MediaInfo] = [:]
        for (path, info) in zip(paths, infos) { byPath[path] = info }
        return finish(clips: clips) { byPath[$0] }
    }

    /// Checks every billed task against its clip's probe result, taken from `probes` by path.
    public func finish(clips: ClipIndex, probes: (String) -> MediaInfo?) -> AuditReport {
        let index = withManifest(clips)
        var summary = AuditSummary()
        summary.records = recordCount
        summary.recordProblems = problems.count
        summary.ignoredRecords = ignoredCount
        summary.tasks = tasks.count
        summary.clipsInFolder = clips.clips.count
        var findings = problems
        var totals = Totals()
        var referenced = Set<String>()

        for state in tasks {
            let match = index.match(taskID: state.taskID, outputURLs: state.outputURLs, clipHint: state.clipHint)
            if let match { referenced.insert(match.path) }
            guard state.isCharged else { continue }
            let media = match.flatMap { probes($0.path) }
            let task = billedTask(state, entry: index.manifestEntry(for: state.taskID), match: match, media: media)
            var taskFindings = Checks.run(task, media: media, priceBook: priceBook, options: options)
            let first = state.bills.first?.location ?? state.impliedCharge ?? state.first
            var extra: [Money?] = []
            for bill in state.bills.dropFirst() {
                let charge = bill.amount ?? task.expectedCharge
                extra.append(charge)
                taskFindings.append(Checks.duplicateBilling(task, charge: charge, at: bill.location, first: first))
            }
            summary.billedTasks += 1
            if task.charge == nil { summary.unpricedTasks += 1 }
            let probed = media.map { $0.error == nil && $0.video != nil } ?? false
            if probed { summary.clipsChecked += 1 }
            totals.add(
                task: task, duplicates: extra, findings: taskFindings,
                delivered: probed ? media.flatMap(Checks.deliveredSeconds) : nil)
            findings += taskFindings
        }
        summary.clipsWithoutRecord = clips.clips.filter { !referenced.contains($0) }.count
        summary.errors = findings.filter { $0.severity == .error }.count
        summary.warnings = findings.filter { $0.severity == .warning }.count
        summary.totals = totals.currencies()
        summary.providers = totals.groups(byModel: false)
        summary.models = totals.groups(byModel: true)
        return AuditReport(summary: summary, findings: findings)
    }

    private func withManifest(_ clips: ClipIndex) -> ClipIndex {
        var index = clips
        index.addManifest(manifest)
        return index
    }

    /// Everything the records say about a task, resolved against the price book and the clip.
    func billedTask(
        _ state: TaskAccount, entry: ManifestEntry?, match: (path: String, method: MatchMethod)?,
        media: MediaInfo?
    ) -> BilledTask {
        let bill = state.bills.first
        let model = state.model ?? entry?.model
        let provider = state.provider ?? entry?.provider ?? model.flatMap(priceBook.provider(ofModel:)) ?? "unknown"
        let rules = model.map { priceBook.rules(provider: provider, model: $0) } ?? []
        let seconds = bill?.seconds ?? state.billedSeconds

        var tier = bill?.tier ?? state.tier
        var tierSource: BilledTask.TierSource? = tier == nil ? nil : .record
        if tier == nil, Set(rules.map(\.tier)).count == 1, let only = rules.first?.tier {
            (tier, tierSource) = (only, .model)
        }
        if tier == nil, let amount = bill?.amount {
            let fitting = rules.filter { $0.tier != nil && $0.charge(seconds: seconds) == amount }
            if fitting.count == 1 { (tier, tierSource) = (fitting[0].tier, .amount) }
        }
        if tier == nil, let clipTier = media?.tier { (tier, tierSource) = (clipTier, .clip) }

        let rule = model.flatMap { priceBook.rule(provider: provider, model: $0, tier: tier) }
        let nominal = seconds ?? state.requestedSeconds ?? rule?.clipSeconds
        let expected = rule?.charge(seconds: nominal)
        var audio = rule?.audio ?? PriceBook.audioExpectation(model: model)
        if state.audioRequested == false { audio = .none }

        return BilledTask(
            taskID: state.taskID, provider: provider, model: model, status: state.status ?? bill?.status,
            providerStatus: state.providerStatus, errorCode: state.errorCode, errorMessage: state.errorMessage,
            contentFlagged: state.contentFlagged, tier: tier, tierSource: tierSource,
            billedSeconds: nominal.map { rule?.billableSeconds($0) ?? $0 },
            paidSeconds: state.outputSeconds ?? seconds ?? state.requestedSeconds ?? rule?.clipSeconds,
            charge: bill?.amount ?? expected, expectedCharge: expected, chargeFromBill: bill?.amount != nil,
            rule: rule, audio: audio, clip: match?.path, matchMethod: match?.method,
            record: bill?.location ?? state.impliedCharge ?? state.first, executionSeconds: state.executionSeconds)
    }
}

extension PriceBook {
    /// Audio expectation for a model with no price rule, from its name: wan2.5 and later deliver
    /// audio, s2v follows its input, wan2.2 is silent.
    static func audioExpectation(model: String?) -> PriceRule.AudioExpectation {
        guard let name = model?.lowercased() else { return .any }
        if name.contains("s2v") { return .any }
        if name.contains("2.5") || name.contains("2.6") { return .expected }
        if name.contains("2.2") || name.contains("2.1") { return .none }
        return .any
    }
}

extension Audit {
    /// Reads a manifest (if any), every record file under `recordPaths`, and the task records
    /// (`*.task.json`) found beside the clips, streaming each record into the audit.
    /// `progress` is called with the number of records read after each file.
    /// - Throws: `RecordsUnreadable` when a records path or the manifest cannot be read at all;
    ///   a malformed record inside a file is a finding instead.
    public mutating func read(
        recordPaths: [String], clips: ClipIndex, manifestPath: String? = nil,
        progress: ((Int) -> Void)? = nil
    ) throws {
        if let manifestPath {
            var manifestProblems: [RecordProblem] = []
            let entries = try Manifest.load(manifestPath) { manifestProblems.append($0) }
            add(manifest: entries)
            for problem in manifestProblems { add(.problem(problem)) }
        }
        let files = try RecordReader.files(in: recordPaths)
        let known = Set(files.map { URL(fileURLWithPath: $0).standardizedFileURL.path })
        let besideClips = clips.taskRecords.filter {
            !known.contains(URL(fileURLWithPath: $0).standardizedFileURL.path)
        }
        for file in files + besideClips {
            RecordReader.read(file: file) { add($0) }
            progress?(recordsRead)
        }
    }
}
