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

            Exit codes: 0 the video is made; 1 the budget would be exceeded, a segment kept failing or the
            provider failed (run again to resume); 2 bad arguments, storyboard or work directory, no API key;
            3 an input image, the price file or the saved state could not be read; 4 the output cannot be
            written (checked before anything is submitted).
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

    @OptionGroup var priceBook: PriceBookOptions

    @Option(help: "With --provider sandbox: a faults file for the in-process sandbox.")
    var faults: String?

    @Flag(help: "Overwrite an existing output.")
    var force = false

    func validate() throws {
        if !output.lowercased().hasSuffix(".mp4") { throw ValidationError("--output must end in .mp4, not '\(output)'") }
        if maxAttempts < 1 { throw ValidationError("--max-attempts must be at least 1") }
    }

    func run() async throws {
        let board = try Storyboard.load(storyboard)
        let named = providerOptions.provider ?? board.defaults.provider.flatMap(ProviderOptions.Provider.init(rawValue:)) ?? .dashscope
        guard let kind = providerOptions.kind(for: named, fallback: board.defaults.provider) else {
            throw CLIFailure(.usage, "storyboard provider must be dashscope, wavespeed or modelverse")
        }
        let book = try priceBook.load()
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
        let faultSettings = try faults.map(SandboxFaults.load)
        let report = try await ProviderSession.run(providerOptions, provider: named, kind: kind, faults: faultSettings) { session in
            var options = ChainOptions(provider: kind, credentials: session.credentials, baseURL: session.baseURL,
                                       transport: session.transport, workDirectory: work ?? output + ".work", output: output,
                                       budget: budgetLimit, maxAttempts: maxAttempts, priceBook: book, overwrite: force)
            options.runner = RunnerOptions(pollInterval: session.pollInterval)
            return try await execute(options, storyboard: board, count: plan.count)
        }
        Stdout.write(try JSONOutput.encode(ChainSummary(report), pretty: true) + "\n")
        let spend = report.estimatedSpend.map(\.description).joined(separator: " + ")
        let billed = report.audit.totals.map { "\($0.billed) billed, \($0.disputed) disputed" }.joined(separator: "; ")
        Stderr.print("wrote \(output): \(report.concat.frames) frames, \(String(format: "%.2f", report.concat.duration)) s; "
            + "spend \(spend.isEmpty ? "unpriced" : spend); audit: \(billed.isEmpty ? "nothing billed" : billed), "
            + "\(report.audit.errors) error(s), \(report.audit.warnings) warning(s); report \(report.reportFile), seams \(report.contactSheet)")
    }

    /// Runs the chain with progress on stderr. A run that stopped short (status 1) says that its
    /// state is kept and the same command resumes it.
    private func execute(_ options: ChainOptions, storyboard board: Storyboard, count: Int) async throws -> ChainReport {
        let progress = ChainProgress(count: count)
        defer { progress.finish() }
        do {
            return try await ChainRunner(storyboard: board, options: options).run(events: progress.report)
        } catch where Failures.isReportable(error) && Failures.exitStatus(for: error) == .checkFailed {
            throw CLIFailure(.checkFailed, Failures.message(for: error)
                + " (state kept in \(options.workDirectory): run the same command to resume)")
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
