import ArgumentParser
import ClipKitConsole
import ClipKitAudit
import ClipKitChain
import ClipKitCore
import ClipKitMedia
import ClipKitProviders
import ClipKitSandbox
import Foundation

struct ChainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chain",
        abstract: "Make one long video from a storyboard of 5-second generations, resumably and on budget.",
        discussion: """
            Segment 1 is text-to-video, or image-to-video from the storyboard's first image; each next
            segment starts from the previous clip's exact last frame (kf2v when it names a target last
            image). Every task id is saved in the work directory before polling, every clip is verified
            on arrival, and the clips are joined with seam frames dropped and colour anchored to the first
            clip. Run the same command again after a kill, a network error or a refusal: it resumes, and
            never pays twice for a segment.

            Examples:
              clipkit chain samples/storyboard.json --provider sandbox -o long.mp4
              clipkit chain story.yaml -o long.mp4 --dry-run
              DASHSCOPE_API_KEY=… clipkit chain story.json -o long.mp4 --budget "6 CNY" --work story.work

            Writes to stdout a JSON summary; in the work directory: chain.json (state), the clips and their
            task records, chain-report.json (segments, seams, audit) and seams.png (the contact sheet).

            Exit codes: 0 the video is made; 1 the budget would be exceeded or a segment kept failing (run
            again to resume); 2 bad arguments or storyboard; 3 an input image could not be read.
            """
    )

    @Argument(help: "The storyboard (.json, .yaml or .yml).")
    var storyboard: String

    @Option(name: .shortAndLong, help: "The long video to write (.mp4).")
    var output: String

    @OptionGroup var providerOptions: ProviderOptions

    @Option(help: "Refuse to submit a segment that would take the spend past this, e.g. 6 or \"6 CNY\".")
    var budget: String?

    @Flag(help: "Print the plan and its estimated cost, submit nothing.")
    var dryRun = false

    @Option(help: "Work directory for state, clips and reports (default OUTPUT.work).")
    var work: String?

    @Option(help: "Generations tried per segment before giving up.")
    var maxAttempts = 3

    @Option(help: "A JSON price file with contracted or new prices.")
    var prices: String?

    @Option(help: "With --provider sandbox: a faults file for the in-process sandbox.")
    var faults: String?

    @Flag(help: "Overwrite an existing output.")
    var force = false

    func validate() throws {
        if !output.lowercased().hasSuffix(".mp4") { throw ValidationError("--output must end in .mp4, not '\(output)'") }
        if maxAttempts < 1 { throw ValidationError("--max-attempts must be at least 1") }
    }

    func run() async throws {
        try await reportingFailures {
            let board: Storyboard
            do {
                board = try Storyboard.load(storyboard)
            } catch let error as StoryboardError {
                throw CLIFailure(error.kind == .unreadable ? .inputUnreadable : .usage, error.description)
            }
            let named = providerOptions.provider ?? board.defaults.provider.flatMap(ProviderOptions.Provider.init(rawValue:)) ?? .dashscope
            guard let kind = providerOptions.kind(for: named, fallback: board.defaults.provider) else {
                throw CLIFailure(.usage, "storyboard provider must be dashscope, wavespeed or modelverse")
            }
            var book = PriceBook.builtIn
            if let prices {
                do { book = try book.merging(contentsOf: prices) } catch { throw CLIFailure(.usage, "\(error)") }
            }
            let plan = ChainRunner.plan(storyboard: board, provider: kind, priceBook: book)
            var budgetLimit: Money?
            if let budget {
                let currency = plan.compactMap(\.estimate?.currency).first ?? "CNY"
                guard let money = Self.parseMoney(budget, defaultCurrency: currency) else {
                    throw CLIFailure(.usage, "--budget must be an amount like 6 or \"6 CNY\", not '\(budget)'")
                }
                budgetLimit = money
            }
            if dryRun {
                Stdout.write(Self.planTable(plan, provider: kind.rawValue, budget: budgetLimit))
                return
            }
            // The transport exists only from here on, and every path below shuts it down.
            var options = ChainOptions(provider: kind, credentials: ProviderCredentials(apiKey: nil, baseURL: nil),
                                       transport: HTTPTransport(), workDirectory: work ?? output + ".work", output: output,
                                       budget: budgetLimit, maxAttempts: maxAttempts, priceBook: book, overwrite: force)
            var sandbox: SandboxServer?
            do {
                if named == .sandbox {
                    let faultSettings = try faults.map { path in
                        do { return try SandboxFaults.load(path) } catch { throw CLIFailure(.usage, "\(error)") }
                    }
                    let (url, started) = try await GenerateCommand.sandboxBase(explicit: providerOptions.baseURL, faults: faultSettings)
                    sandbox = started
                    options.baseURL = url
                    options.credentials = ProviderCredentials(apiKey: APIKey("sk-clipkit-sandbox"), baseURL: nil)
                    // The sandbox answers in about a second: poll it faster than a real provider.
                    options.runner = RunnerOptions(pollInterval: .milliseconds(250))
                } else {
                    options.baseURL = providerOptions.baseURL
                    do { options.credentials = try ProviderCredentials.load(provider: kind.rawValue, configPath: providerOptions.config) } catch {
                        throw CLIFailure(.usage, "\(error)")
                    }
                }
                let report = try await execute(options, storyboard: board, count: plan.count)
                await GenerateCommand.shutdown(options.transport, sandbox)
                Stdout.write(try JSONOutput.encode(ChainSummary(report), pretty: true) + "\n")
                let spend = report.estimatedSpend.map(\.description).joined(separator: " + ")
                let billed = report.audit.totals.map { "\($0.billed) billed, \($0.disputed) disputed" }.joined(separator: "; ")
                Stderr.print("wrote \(output): \(report.concat.frames) frames, \(String(format: "%.2f", report.concat.duration)) s; "
                    + "spend \(spend.isEmpty ? "unpriced" : spend); audit: \(billed.isEmpty ? "nothing billed" : billed), "
                    + "\(report.audit.errors) error(s), \(report.audit.warnings) warning(s); report \(report.reportFile), seams \(report.contactSheet)")
            } catch {
                await GenerateCommand.shutdown(options.transport, sandbox)
                throw error
            }
        }
    }

    /// Runs the chain with progress on stderr, turning its failures into exit codes.
    private func execute(_ options: ChainOptions, storyboard board: Storyboard, count: Int) async throws -> ChainReport {
        let progress = ChainProgress(count: count)
        defer { progress.finish() }
        let resume = " (state kept in \(options.workDirectory): run the same command to resume)"
        do {
            return try await ChainRunner(storyboard: board, options: options).run(events: progress.report)
        } catch let error as ChainError {
            throw CLIFailure(.checkFailed, error.description + resume)
        } catch let error as ProviderError {
            throw CLIFailure(.checkFailed, "\(error)" + resume)
        } catch let error as ConcatError {
            throw CLIFailure(.inputUnreadable, error.description)
        } catch let error as OutputFileError {
            throw CLIFailure(.usage, error.description)
        }
    }

    /// "6", "6 CNY", "6CNY" or "USD 0.80": a positive amount and a three-letter currency (default the plan's).
    static func parseMoney(_ text: String, defaultCurrency: String) -> Money? {
        let number = text.filter { $0.isNumber || $0 == "." }
        let letters = text.filter(\.isLetter).uppercased()
        guard !number.isEmpty, text.allSatisfy({ $0.isNumber || $0 == "." || $0.isLetter || $0 == " " }),
              letters.isEmpty || letters.count == 3,
              let money = Money(parsing: number, currency: letters.isEmpty ? defaultCurrency : letters), money.isPositive
        else { return nil }
        return money
    }

    static func planTable(_ plan: [SegmentPlan], provider: String, budget: Money?) -> String {
        var totals: [String: Money] = [:]
        let rows = plan.map { segment -> [String] in
            if let estimate = segment.estimate { totals[estimate.currency] = (totals[estimate.currency] ?? .zero(estimate.currency)) + estimate }
            return ["\(segment.index + 1)", segment.mode.rawValue, segment.model, segment.tier.rawValue, "\(segment.seconds) s",
                    segment.estimate?.description ?? "no price", String(segment.prompt.prefix(48))]
        }
        var text = TextTable.render(header: ["#", "MODE", "MODEL", "TIER", "LENGTH", "ESTIMATE", "PROMPT"], rows: rows)
        let total = totals.values.map(\.description).sorted().joined(separator: " + ")
        text += "total (\(provider)): \(total.isEmpty ? "unpriced" : total)"
        if let budget { text += ", budget \(budget)" + (totals[budget.currency].map { $0.amount > budget.amount ? " (over budget)" : "" } ?? "") }
        return text + "\n"
    }
}

/// The machine-readable end of `clipkit chain`.
struct ChainSummary: Encodable {
    var output: String
    var frames: Int
    var duration: Double
    var segments: [Segment]
    var estimatedSpend: [Money]
    var billed: [CurrencyTotal]
    var auditErrors: Int
    var auditWarnings: Int
    var seams: [ConcatReport.Seam]
    var report: String
    var contactSheet: String

    struct Segment: Encodable {
        var index: Int
        var mode: String
        var model: String
        var clip: String?
        var tasks: [String]
        var attempts: Int
        /// The YUV matrix the clip was read with (measured against the image sent, or its evidence).
        var matrix: ColorMatrix?
    }

    init(_ report: ChainReport) {
        output = report.output
        frames = report.concat.frames
        duration = report.concat.duration
        segments = report.segments.map {
            Segment(index: $0.plan.index + 1, mode: $0.plan.mode.rawValue, model: $0.plan.model, clip: $0.clip,
                    tasks: $0.attempts.map(\.taskID), attempts: $0.attempts.count, matrix: $0.matrix)
        }
        estimatedSpend = report.estimatedSpend
        billed = report.audit.totals
        auditErrors = report.audit.errors
        auditWarnings = report.audit.warnings
        seams = report.concat.seams
        self.report = report.reportFile
        contactSheet = report.contactSheet
    }
}

/// One line per chain step on stderr, with the running task's state and the join's ETA.
final class ChainProgress: @unchecked Sendable {
    private let count: Int
    private let lock = NSLock()
    private let frames = ProgressLine(label: "joining: frames", total: 0)

    init(count: Int) { self.count = count }

    var report: @Sendable (ChainEvent) async -> Void { { [self] event in self.handle(event) } }

    private func handle(_ event: ChainEvent) {
        lock.withLock {
            switch event {
            case .segmentStarted(let i, let count, let mode, let model, let estimate):
                Stderr.print("segment \(i + 1)/\(count): \(mode.rawValue) with \(model)" + (estimate.map { ", about \($0)" } ?? ""))
            case .reused(let i, let clip): Stderr.print("segment \(i + 1)/\(count): done in an earlier run (\(clip))")
            case .resuming(let i, let taskID): Stderr.print("segment \(i + 1)/\(count): resuming task \(taskID) (not submitting again)")
            case .task(let i, let event):
                switch event {
                case .submitted(let taskID, _): Stderr.print("  segment \(i + 1): task \(taskID) submitted")
                case .status(let snapshot): Stderr.print("  segment \(i + 1): \(snapshot.status)")
                case .retrying(let reason, _): Stderr.print("  segment \(i + 1): retrying: \(reason)")
                case .downloaded(let info): Stderr.print("  segment \(i + 1): downloaded \(info.video?.frameCount ?? 0) frames")
                default: break
                }
            case .attemptFailed(let i, let reason, let retry):
                Stderr.print("  segment \(i + 1): attempt failed: \(reason)" + (retry ? "; trying again" : ""))
            case .accepted(let i, _): Stderr.print("  segment \(i + 1): verified")
            case .joining(let clips): Stderr.print("joining \(clips) clips (seam frames dropped, colour anchored to the first clip)")
            case .concat(let p): frames.update(p.framesDone, total: p.framesTotal, detail: "clip \(p.clip)/\(p.clips)")
            }
        }
    }

    func finish() { frames.finish() }
}
