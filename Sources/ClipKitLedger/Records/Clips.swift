import ClipKitCore
import Foundation

/// A clip the ledger holds: a file under the data directory and what was learnt about it.
public struct ClipRecord: Sendable, Hashable, Identifiable {
    public var id: String
    /// The file, relative to the data directory (`clips/clip_….mp4`).
    public var path: String
    /// Lower-case hex SHA-256 of the file.
    public var sha256: String
    public var byteCount: Int64
    /// Where it was downloaded from, without credentials or signatures (the caller strips a presigned
    /// URL's query before it gets here).
    public var sourceURL: String?
    /// The ledger task that produced it, if any.
    public var taskID: String?
    /// The probe's JSON contract, as `clipkit probe --format json` prints one entry.
    public var probe: JSONValue
    /// The verification result, when requirements were checked.
    public var verification: JSONValue?
    /// Extracted frames by name (`first`, `last`, or a frame number) → path relative to the data directory.
    public var frames: [String: String]
    public var createdAt: Date

    public init(
        id: String? = nil, path: String, sha256: String, byteCount: Int64, sourceURL: String? = nil,
        taskID: String? = nil, probe: JSONValue, verification: JSONValue? = nil, frames: [String: String] = [:],
        createdAt: Date? = nil
    ) {
        self.id = id ?? RecordID.make("clip")
        self.path = path
        self.sha256 = sha256
        self.byteCount = byteCount
        self.sourceURL = sourceURL
        self.taskID = taskID
        self.probe = probe
        self.verification = verification
        self.frames = frames
        self.createdAt = createdAt?.roundedToLedgerResolution ?? .unstamped
    }
}

extension LedgerTransaction {
    static let clipColumns = "id, path, sha256, byte_count, source_url, task_id, probe, verification, frames, created_at"

    /// Stores a new clip (stamped now unless it carries a time) and returns it as stored.
    /// - Throws: `LedgerError.conflict` when a clip with its id exists.
    @discardableResult
    public func insertClip(_ clip: ClipRecord) async throws -> ClipRecord {
        var stored = clip
        stored.createdAt = stored.createdAt.stamped(now)
        let row = try await queryOne(
            """
            INSERT INTO clips (\(Self.clipColumns)) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
            ON CONFLICT (id) DO NOTHING RETURNING id
            """,
            [.text(stored.id), .text(stored.path), .text(stored.sha256), .int(stored.byteCount), SQLValue(stored.sourceURL),
             SQLValue(stored.taskID), SQLValue(json: stored.probe), SQLValue(json: stored.verification),
             .json(try JSONText.encode(stored.frames)), .date(stored.createdAt)])
        guard row != nil else { throw LedgerError(.conflict, "a clip with id \(stored.id) is already in the ledger") }
        return stored
    }

    /// Rewrites what can change after a clip is stored: its verification, its frames and its task.
    /// - Throws: `LedgerError.notFound` when there is no such clip.
    public func updateClip(_ clip: ClipRecord) async throws {
        let rows = try await query(
            "UPDATE clips SET verification = $2, frames = $3, task_id = $4 WHERE id = $1 RETURNING id",
            [.text(clip.id), SQLValue(json: clip.verification), .json(try JSONText.encode(clip.frames)),
             SQLValue(clip.taskID)])
        guard !rows.isEmpty else { throw LedgerError(.notFound, "no clip \(clip.id) in the ledger") }
    }

    public func clip(_ id: String) async throws -> ClipRecord? {
        try await queryOne("SELECT \(Self.clipColumns) FROM clips WHERE id = $1", [.text(id)]).map(Self.clip)
    }

    /// Clips with this content, oldest first.
    public func clips(sha256: String) async throws -> [ClipRecord] {
        try await query("SELECT \(Self.clipColumns) FROM clips WHERE sha256 = $1 ORDER BY created_at, id", [.text(sha256)])
            .map(Self.clip)
    }

    /// Clips newest first, optionally only those created since `since`.
    public func clips(since: Date? = nil, limit: Int = 100) async throws -> [ClipRecord] {
        var filter = SQLFilter()
        filter.add("created_at", ">=", since.map(SQLValue.date))
        let limit = filter.bind(.int(Int64(limit)))
        return try await query(
            "SELECT \(Self.clipColumns) FROM clips \(filter.whereClause) ORDER BY created_at DESC, id DESC LIMIT \(limit)",
            filter.binds
        ).map(Self.clip)
    }

    static func clip(_ row: SQLRow) throws -> ClipRecord {
        ClipRecord(
            id: try row.string("id"), path: try row.string("path"), sha256: try row.string("sha256"),
            byteCount: try row.int64("byte_count"), sourceURL: try row.optionalString("source_url"),
            taskID: try row.optionalString("task_id"), probe: try row.json("probe"),
            verification: try row.optionalJSON("verification"),
            frames: try row.optionalDecoded([String: String].self, "frames") ?? [:], createdAt: try row.date("created_at"))
    }
}

extension Date {
    /// The time of a record not stored yet: `insert…` replaces it with the ledger clock's now.
    static let unstamped = Date.distantPast

    func stamped(_ now: Date) -> Date { self == .unstamped ? now : self }
}
