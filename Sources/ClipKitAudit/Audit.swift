import ClipKitCore
import Foundation

/// Totals for one currency. Amounts in different currencies are never added together.
public struct CurrencyTotal: Sendable, Hashable, Codable {
    public var currency: String
    /// Every charge, duplicates included.
    public var billed: Money
    /// The part of `billed` the delivered clips support: billed − disputed.
    public var verified: Money
    /// The part of `billed` the findings dispute.
    public var disputed: Money

    public init(currency: String, billed: Money, verified: Money, disputed: Money) {
        self.currency = currency
        self.billed = billed
        self.verified = verified
        self.disputed = disputed
    }
}

/// Totals for one provider, or one provider and model, in one currency.
public struct GroupTotal: Sendable, Hashable, Codable {
    public var provider: String
    /// Nil in the per-provider list.
    public var model: String?
    /// Nil for tasks whose amount is unknown.
    public var currency: String?
    public var billedTasks: Int
    /// Seconds billed, duplicates included.
    public var billedSeconds: Decimal
    /// Seconds of video the matched clips really hold (zero for missing or broken clips).
    public var deliveredSeconds: Decimal
    public var billed: Money?
    public var disputed: Money?
    public var findings: Int
}

/// The audit's result: counts, totals, and every finding.
public struct AuditSummary: Sendable, Hashable, Codable {
    /// Records read (each object, array element, JSON line or CSV row).
    public var records: Int = 0
    public var recordProblems: Int = 0
    /// Well-formed records about no task (creation errors).
    public var ignoredRecords: Int = 0
    /// Distinct task ids.
    public var tasks: Int = 0
    /// Tasks with a charge.
    public var billedTasks: Int = 0
    /// Billed tasks whose amount is unknown (no price).
    public var unpricedTasks: Int = 0
    /// Clip files in the clips folder.
    public var clipsInFolder: Int = 0
    /// Billed tasks whose clip was found and probed.
    public var clipsChecked: Int = 0
    /// Clip files no record refers to.
    public var clipsWithoutRecord: Int = 0
    public var errors: Int = 0
    public var warnings: Int = 0
    public var totals: [CurrencyTotal] = []
    public var providers: [GroupTotal] = []
    public var models: [GroupTotal] = []
}

/// A finished audit: the summary and the findings, ready for a report.
public struct AuditReport: Sendable, Hashable, Codable {
    public var summary: AuditSummary
    public var findings: [Finding]

    /// True when a finding at `level` or above exists.
    public func reaches(_ level: Finding.Severity) -> Bool {
        findings.contains { $0.severity >= level }
    }
}

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
    private var tasks: [TaskState] = []
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
                var state = TaskState(taskID: record.taskID, first: record.location)
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
        _ state: TaskState, entry: ManifestEntry?, match: (path: String, method: MatchMethod)?,
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

/// What the audit keeps per task while records stream by: a few fields, not the records.
struct TaskState: Sendable {
    struct BillLine: Sendable {
        var location: RecordLocation
        var amount: Money?
        var seconds: Decimal?
        var tier: Tier?
        var status: TaskStatus?
    }

    var taskID: String
    var first: RecordLocation
    var provider: String?
    var model: String?
    var status: TaskStatus?
    var providerStatus: String?
    var errorCode: String?
    var errorMessage: String?
    var contentFlagged = false
    var tier: Tier?
    var billedSeconds: Decimal?
    var outputSeconds: Decimal?
    var requestedSeconds: Decimal?
    var executionSeconds: Decimal?
    var outputURLs: [String] = []
    var audioRequested: Bool?
    var clipHint: String?
    /// The first task account that implies a charge (usage, a completed task).
    var impliedCharge: RecordLocation?
    /// Bill lines, in the order read: more than one is a duplicate charge.
    var bills: [BillLine] = []

    init(taskID: String, first: RecordLocation) {
        self.taskID = taskID
        self.first = first
    }

    var isCharged: Bool { !bills.isEmpty || impliedCharge != nil }

    /// Folds a record in. Bill lines are kept (each is a charge); task accounts fill fields still
    /// unknown, and a final status replaces a pending one.
    mutating func merge(_ record: BillingRecord) {
        if record.isBillLine {
            bills.append(
                BillLine(
                    location: record.location, amount: record.amount, seconds: record.billedSeconds,
                    tier: record.tier, status: record.status))
            provider = provider ?? record.provider
            model = model ?? record.model
            if status == nil { status = record.status }
            return
        }
        provider = provider ?? record.provider
        model = model ?? record.model
        if let new = record.status, status == nil || status == .pending || status == .running || status == .unknown {
            status = new
            providerStatus = record.providerStatus
        }
        errorCode = errorCode ?? record.errorCode
        errorMessage = errorMessage ?? record.errorMessage
        contentFlagged = contentFlagged || record.contentFlagged
        tier = tier ?? record.tier
        billedSeconds = billedSeconds ?? record.billedSeconds
        outputSeconds = outputSeconds ?? record.outputSeconds
        requestedSeconds = requestedSeconds ?? record.requestedSeconds
        executionSeconds = executionSeconds ?? record.executionSeconds
        if outputURLs.isEmpty { outputURLs = Array(record.outputURLs.prefix(2)) }
        audioRequested = audioRequested ?? record.audioRequested
        clipHint = clipHint ?? record.clipHint
        if record.charged && impliedCharge == nil { impliedCharge = record.location }
    }
}

/// Adds up money per currency and per provider/model, never across currencies.
struct Totals {
    private struct Key: Hashable {
        var provider: String
        var model: String?
        var currency: String?
    }

    private var billed: [String: Decimal] = [:]
    private var disputed: [String: Decimal] = [:]
    private var groups: [Key: GroupTotal] = [:]
    private var groupOrder: [Key] = []

    mutating func add(task: BilledTask, duplicates: [Money?], findings: [Finding], delivered: Decimal?) {
        let currency = task.charge?.currency
        // Findings about the one charge may overlap (short AND low tier): cap them at the charge.
        var taskDisputed: Decimal = 0
        if let charge = task.charge {
            let sum = findings.filter { $0.code != .duplicateBilling && $0.overBilled?.currency == charge.currency }
                .reduce(Decimal(0)) { $0 + ($1.overBilled?.amount ?? 0) }
            taskDisputed = Swift.min(sum, charge.amount)
            billed[charge.currency, default: 0] += charge.amount
            disputed[charge.currency, default: 0] += taskDisputed
        }
        var duplicateSum: Decimal = 0
        for case let money? in duplicates {
            billed[money.currency, default: 0] += money.amount
            disputed[money.currency, default: 0] += money.amount
            if money.currency == currency { duplicateSum += money.amount }
        }
        let seconds = (task.billedSeconds ?? 0) * Decimal(1 + duplicates.count)
        for key in [
            Key(provider: task.provider, model: nil, currency: currency),
            Key(provider: task.provider, model: task.model ?? "unknown model", currency: currency),
        ] {
            if groups[key] == nil {
                groupOrder.append(key)
                groups[key] = GroupTotal(
                    provider: key.provider, model: key.model, currency: currency, billedTasks: 0, billedSeconds: 0,
                    deliveredSeconds: 0, billed: currency.map(Money.zero), disputed: currency.map(Money.zero),
                    findings: 0)
            }
            groups[key]!.billedTasks += 1
            groups[key]!.billedSeconds += seconds
            groups[key]!.deliveredSeconds += delivered ?? 0
            groups[key]!.findings += findings.count
            if let charge = task.charge {
                groups[key]!.billed = groups[key]!.billed.map { $0 + charge + Money(duplicateSum, charge.currency) }
                groups[key]!.disputed = groups[key]!.disputed.map {
                    $0 + Money(taskDisputed + duplicateSum, charge.currency)
                }
            }
        }
    }

    func currencies() -> [CurrencyTotal] {
        billed.keys.sorted().map { currency in
            let b = Money(billed[currency]!, currency)
            let d = Money(disputed[currency] ?? 0, currency)
            return CurrencyTotal(currency: currency, billed: b, verified: b - d, disputed: d)
        }
    }

    func groups(byModel: Bool) -> [GroupTotal] {
        groupOrder.filter { ($0.model != nil) == byModel }.map { groups[$0]! }
            .sorted {
                ($0.provider, $0.model ?? "", $0.currency ?? "") < ($1.provider, $1.model ?? "", $1.currency ?? "")
            }
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
