import ClipKitCore
import Foundation

/// A chain: a storyboard turned into segments, each one verified clip, joined into one video.
public struct ChainRecord: Sendable, Hashable, Identifiable {
    public var id: String
    public var provider: String
    /// The storyboard as submitted.
    public var storyboard: JSONValue
    /// The budget its submissions are reserved against (besides the account's), if any.
    public var budget: String?
    /// `pending`, `running`, `joined`, `failed`, … as the chain runner names its progress.
    public var state: String
    /// The joined video, relative to the data directory.
    public var outputPath: String?
    /// The chain report (seams, audit summary).
    public var report: JSONValue?
    public var segments: [ChainSegmentRecord]
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: String? = nil, provider: String, storyboard: JSONValue, budget: String? = nil, state: String = "pending",
        segmentCount: Int
    ) {
        self.id = id ?? RecordID.make("chain")
        self.provider = provider
        self.storyboard = storyboard
        self.budget = budget
        self.state = state
        self.segments = (0..<segmentCount).map { ChainSegmentRecord(position: $0) }
        self.createdAt = .unstamped
        self.updatedAt = .unstamped
    }
}

/// One segment of a chain, by position from 0.
public struct ChainSegmentRecord: Sendable, Hashable {
    public var position: Int
    /// `pending`, `generating`, `accepted`, …
    public var state: String
    /// The accepted clip.
    public var clipID: String?
    /// Its exact last frame (the next segment's first), relative to the data directory.
    public var lastFramePath: String?
    public var updatedAt: Date

    public init(position: Int, state: String = "pending", clipID: String? = nil, lastFramePath: String? = nil) {
        self.position = position
        self.state = state
        self.clipID = clipID
        self.lastFramePath = lastFramePath
        self.updatedAt = .unstamped
    }
}

extension LedgerTransaction {
    static let chainColumns = "id, provider, storyboard, budget, state, output_path, report, created_at, updated_at"

    /// Stores a new chain and its segments, and returns it as stored.
    /// - Throws: `LedgerError.conflict` when a chain with its id exists.
    @discardableResult
    public func insertChain(_ chain: ChainRecord) async throws -> ChainRecord {
        var stored = chain
        stored.createdAt = now
        stored.updatedAt = stored.createdAt
        let row = try await queryOne(
            """
            INSERT INTO chains (\(Self.chainColumns)) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
            ON CONFLICT (id) DO NOTHING RETURNING id
            """,
            [.text(stored.id), .text(stored.provider), SQLValue(json: stored.storyboard), SQLValue(stored.budget),
             .text(stored.state), SQLValue(stored.outputPath), SQLValue(json: stored.report), .date(stored.createdAt)])
        guard row != nil else { throw LedgerError(.conflict, "a chain with id \(stored.id) is already in the ledger") }
        for index in stored.segments.indices {
            stored.segments[index].updatedAt = stored.createdAt
            let segment = stored.segments[index]
            try await execute(
                """
                INSERT INTO chain_segments (chain_id, position, state, clip_id, last_frame_path, updated_at)
                VALUES ($1, $2, $3, $4, $5, $6)
                """,
                [.text(stored.id), .int(Int64(segment.position)), .text(segment.state), SQLValue(segment.clipID),
                 SQLValue(segment.lastFramePath), .date(stored.createdAt)])
        }
        return stored
    }

    /// Records the chain's progress.
    /// - Throws: `LedgerError.notFound` when there is no such chain.
    public func updateChain(_ id: String, state: String, outputPath: String? = nil, report: JSONValue? = nil) async throws {
        let rows = try await query(
            """
            UPDATE chains SET state = $2, output_path = COALESCE($3, output_path), report = COALESCE($4, report),
                updated_at = $5
            WHERE id = $1 RETURNING id
            """, [.text(id), .text(state), SQLValue(outputPath), SQLValue(json: report), .date(now)])
        guard !rows.isEmpty else { throw LedgerError(.notFound, "no chain \(id) in the ledger") }
    }

    /// Records a segment's progress.
    /// - Throws: `LedgerError.notFound` when the chain has no such segment.
    public func updateSegment(_ segment: ChainSegmentRecord, chainID: String) async throws {
        let rows = try await query(
            """
            UPDATE chain_segments SET state = $3, clip_id = $4, last_frame_path = $5, updated_at = $6
            WHERE chain_id = $1 AND position = $2 RETURNING position
            """,
            [.text(chainID), .int(Int64(segment.position)), .text(segment.state), SQLValue(segment.clipID),
             SQLValue(segment.lastFramePath), .date(now)])
        guard !rows.isEmpty else {
            throw LedgerError(.notFound, "chain \(chainID) has no segment \(segment.position) in the ledger")
        }
    }

    public func chain(_ id: String) async throws -> ChainRecord? {
        guard let row = try await queryOne("SELECT \(Self.chainColumns) FROM chains WHERE id = $1", [.text(id)]) else {
            return nil
        }
        var chain = try Self.chain(row)
        chain.segments = try await query(
            """
            SELECT position, state, clip_id, last_frame_path, updated_at FROM chain_segments
            WHERE chain_id = $1 ORDER BY position
            """, [.text(id)]
        ).map { row in
            var segment = ChainSegmentRecord(
                position: try row.int("position"), state: try row.string("state"), clipID: try row.optionalString("clip_id"),
                lastFramePath: try row.optionalString("last_frame_path"))
            segment.updatedAt = try row.date("updated_at")
            return segment
        }
        return chain
    }

    /// Chains newest first, without their segments (ask `chain(_:)` for those).
    public func chains(limit: Int = 100) async throws -> [ChainRecord] {
        try await query("SELECT \(Self.chainColumns) FROM chains ORDER BY created_at DESC, id DESC LIMIT $1", [.int(Int64(limit))])
            .map(Self.chain)
    }

    static func chain(_ row: SQLRow) throws -> ChainRecord {
        var chain = ChainRecord(
            id: try row.string("id"), provider: try row.string("provider"), storyboard: try row.json("storyboard"),
            budget: try row.optionalString("budget"), state: try row.string("state"), segmentCount: 0)
        chain.outputPath = try row.optionalString("output_path")
        chain.report = try row.optionalJSON("report")
        chain.createdAt = try row.date("created_at")
        chain.updatedAt = try row.date("updated_at")
        return chain
    }
}
