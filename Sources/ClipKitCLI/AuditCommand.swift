import ArgumentParser
import ClipKitConsole
import ClipKitAudit
import ClipKitCore
import ClipKitLedger
import ClipKitMedia
import ClipKitService
import Foundation

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Check provider bills and task records against the clips really delivered.",
        discussion: """
            Reads provider records (DashScope/Bailian task and create responses, WaveSpeed results and \
            webhook bodies, ModelVerse status responses, CSV bills, ClipKit task records), matches each \
            task to its clip (manifest, NAME.task.json beside the clip, task id in the file name, or the \
            output URL's file name), probes the clips in parallel and reports every difference in money: \
            short clips, wrong tier, failed or flagged tasks billed, duplicates, wrong amounts, missing or \
            broken files. Amounts come from the built-in price book (see `clipkit prices`) and --prices.

            Records may be files or folders (searched for .json, .jsonl, .ndjson, .csv). A CSV with \
            task_id and path (and optionally model) columns among them is read as a manifest. A malformed \
            record is reported with its file and line, and the rest is read.

            Examples:
              clipkit audit --records samples/records --clips samples
              clipkit audit --records bills responses.jsonl --clips downloads
              clipkit audit --records bills --clips downloads --manifest tasks.csv
              clipkit audit --records bills --clips downloads --prices contract.json
              clipkit audit --records bills --clips downloads --format html -o audit.html
              clipkit audit --records bills --clips downloads --deep --fail-on warning
              clipkit audit --database postgres://clipkit:secret@db/clipkit --data /mnt/clipkit   # what clipkit serve recorded

            With --database (a SQLite path or postgres://…) the records are the ledger's tasks and the clips \
            the data directory's, as clipkit serve and clipkit worker keep them (--data, default clipkit-data).

            Exit codes: 0 nothing at the --fail-on level; 1 a finding at that level (default: error); \
            2 bad arguments or an output that exists (use --force); 3 a records path, the clips folder, \
            the manifest or the price file could not be read; 4 the -o file could not be written.
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, json, csv, html

        var report: ReportFormat {
            switch self {
            case .table: .table
            case .json: .json
            case .csv: .csv
            case .html: .html
            }
        }
    }

    enum Level: String, ExpressibleByArgument, CaseIterable {
        case warning, error

        var severity: Finding.Severity { self == .warning ? .warning : .error }
    }

    @Option(parsing: .upToNextOption, help: "Record files or folders: provider responses, webhook bodies, CSV bills.")
    var records: [String] = []

    @Option(help: "Folder of delivered clips, searched recursively (NAME.task.json beside a clip is read too).")
    var clips: String?

    @Option(help: "Audit the tasks of this ledger instead of records: a SQLite path or postgres://user:pass@host:port/db.")
    var database: String?

    @Option(help: "With --database: the data directory holding the ledger's clips.")
    var data = "clipkit-data"

    @Option(help: "Task id → clip manifest: CSV task_id,path[,model,provider] or JSON.")
    var manifest: String?

    @OptionGroup var priceBook: PriceBookOptions

    @Option(help: "Report format: table, json, csv (one row per finding) or html (one self-contained page).")
    var format: Format = .table

    @Option(name: .shortAndLong, help: "Write the report to this file instead of stdout.")
    var output: String?

    @Flag(help: "Overwrite the -o file if it exists.")
    var force = false

    @Flag(help: "Decode every frame of every clip, to catch truncated or corrupt data behind a good header.")
    var deep = false

    @Option(help: "Exit 1 when a finding of this severity or worse exists: warning or error.")
    var failOn: Level = .error

    @Option(help: "Frames a clip may be shorter than billed before it counts as short.")
    var toleranceFrames: Double = 1

    func validate() throws {
        if database != nil {
            if !records.isEmpty || clips != nil || manifest != nil {
                throw ValidationError("--database audits the ledger's tasks and clips: give it without --records, --clips, --manifest")
            }
        } else {
            if records.isEmpty { throw ValidationError("--records needs at least one file or folder (or give --database)") }
            if clips == nil { throw ValidationError("--clips is needed with --records") }
        }
        if toleranceFrames < 0 { throw ValidationError("--tolerance-frames must be 0 or more") }
    }

    func run() async throws {
        // Refuse an existing or unwritable -o before doing the work, not after.
        let destination = try output.map { try OutputFile($0, overwrite: force) }
        try destination?.checkWritable()
        let prices = try priceBook.load(), options = AuditOptions(toleranceFrames: toleranceFrames)
        let deep = deep
        let probe = { @Sendable (paths: [String]) async throws -> [MediaInfo] in
            // Like `probe`, show progress only when there is enough work to wait for.
            let progress =
                paths.count > 20 ? ProgressLine(label: deep ? "decoded" : "probed", total: paths.count) : nil
            let infos = try await MediaProbe.probeAll(paths, deep: deep) { done, _ in progress?.update(done) }
            progress?.finish()
            return infos
        }
        let report: AuditReport
        if let database {
            report = try await Ledger.withLedger(try LedgerLocation(parsing: database)) { store in
                let report = try await LedgerAudit(ledger: store, dataDirectory: data, priceBook: prices, options: options).run(probe: probe)
                Stderr.print("clipkit: read \(report.summary.tasks) tasks from \(store.location); clips in \(data)/clips")
                return report
            }
        } else {
            let clips = clips!
            var audit = Audit(priceBook: prices, options: options)
            let index = try ClipIndex(scanning: clips)
            try audit.read(recordPaths: records, clips: index, manifestPath: manifest)
            Stderr.print("clipkit: read \(audit.recordsRead) records; \(index.clips.count) clips in \(clips)")
            report = try await audit.run(clips: index, probe: probe)
        }

        let text = format.report.render(report)
        if let destination {
            try destination.write(Data(text.utf8))
        } else {
            Stdout.write(text)
        }
        Stderr.print("clipkit: " + Self.verdict(report))
        if report.reaches(failOn.severity) { throw ExitStatus.checkFailed.exitCode }
    }

    /// "3 errors, 2 warnings; disputed 9.78 CNY, 0.20 USD".
    static func verdict(_ report: AuditReport) -> String {
        let s = report.summary
        let disputed = s.totals.filter { $0.disputed.isPositive }.map(\.disputed.description)
        return "\(s.errors) error\(s.errors == 1 ? "" : "s"), \(s.warnings) warning\(s.warnings == 1 ? "" : "s")"
            + (disputed.isEmpty ? "; nothing disputed" : "; disputed \(disputed.joined(separator: ", "))")
    }
}
