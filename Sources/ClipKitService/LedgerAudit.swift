import ClipKitAudit
import ClipKitCore
import ClipKitLedger
import Foundation

/// The billing audit over a ledger: every task it holds, read as its task record, against the clip in the
/// data directory. What `clipkit audit --records` does over files, for `clipkit audit --database` and
/// `GET /v1/audit`, with the same checks and the same report.
public struct LedgerAudit: Sendable {
    public var ledger: any LedgerStore
    /// Holds `clips/TASK.mp4`.
    public var dataDirectory: String
    public var priceBook: PriceBook
    public var options: AuditOptions

    public init(ledger: any LedgerStore, dataDirectory: String, priceBook: PriceBook = .builtIn, options: AuditOptions = AuditOptions()) {
        self.ledger = ledger
        self.dataDirectory = dataDirectory
        self.priceBook = priceBook
        self.options = options
    }

    /// Audits the tasks created in `from..<to` (either end open when nil) of `provider` (all when nil),
    /// at most `limit` of the newest; `bill` holds more records (a provider's bill or responses, as
    /// `RecordReader` reads them), merged with the ledger's by task id, so the bill's charges are checked
    /// against what the ledger saw delivered.
    /// - Parameter probe: probes the matched clips (every path in one call, answers in order).
    /// - Throws: `LedgerError`; what `probe` throws.
    public func run(from: Date? = nil, to: Date? = nil, provider: String? = nil, limit: Int = 100_000, bill: [RecordItem] = [],
                    probe: ([String]) async throws -> [MediaInfo]) async throws -> AuditReport {
        let tasks = try await ledger.read { try await $0.tasks(since: from, limit: limit) }
            .filter { task in (to.map { task.createdAt < $0 } ?? true) && (provider.map { task.provider == $0.lowercased() } ?? true) }
        var audit = Audit(priceBook: priceBook, options: options)
        var clips: [String] = []
        for task in tasks.reversed() {
            let clip = Self.clipPath(task.id, in: dataDirectory)
            if FileManager.default.fileExists(atPath: clip) { clips.append(clip) }
            audit.add(try Self.item(task, clipPath: clip, voiceSeconds: nil))
        }
        for item in bill { audit.add(item) }
        return try await audit.run(clips: ClipIndex(root: dataDirectory + "/clips", clips: clips), probe: probe)
    }

    static func clipPath(_ taskID: String, in dataDirectory: String) -> String { dataDirectory + "/clips/\(taskID).mp4" }

    /// One task as the audit reads it: its task record, placed beside its clip (`clips/TASK.task.json`) so
    /// that the audit matches the two; an s2v task's voice length when known.
    static func item(_ task: ProviderTaskRecord, clipPath: String, voiceSeconds: Double?) throws -> RecordItem {
        var record = task.taskRecord(outputFile: (clipPath as NSString).lastPathComponent)
        record.inputAudioDuration = voiceSeconds
        let json = try JSONValue(parsing: TaskRecord.makeEncoder().encode(record))
        return RecordReader.parse(json, at: RecordLocation(file: TaskRecord.path(forClip: clipPath), line: 1))
    }
}
