import Foundation

/// An API token as the ledger keeps it: a name and times. The token itself is shown once, when made;
/// only its SHA-256 is stored (the token is 256 random bits, so a plain hash cannot be reversed).
public struct APIToken: Sendable, Hashable, Identifiable {
    public var id: String
    public var name: String
    public var createdAt: Date
    public var revokedAt: Date?
    public var lastUsedAt: Date?
}

extension LedgerTransaction {
    static let tokenColumns = "id, name, created_at, revoked_at, last_used_at"

    /// Makes a token named `name`. The returned `secret` (`ck_…`) exists nowhere else afterwards.
    /// - Throws: `LedgerError.conflict` when an active token has that name.
    public func createToken(name: String) async throws -> (token: APIToken, secret: String) {
        guard !name.isEmpty else { throw LedgerError(.conflict, "a token needs a name") }
        var bytes = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255, using: &generator) }
        let secret = "ck_" + Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        let now = self.now
        let row = try await queryOne(
            """
            INSERT INTO api_tokens (id, name, token_hash, created_at) VALUES ($1, $2, $3, $4)
            ON CONFLICT DO NOTHING RETURNING \(Self.tokenColumns)
            """, [.text(RecordID.make("token", at: now)), .text(name), .text(Self.tokenHash(secret)), .date(now)])
        guard let row else { throw LedgerError(.conflict, "an active token is already named \(name)") }
        return (try Self.token(row), secret)
    }

    /// The active token `secret` belongs to, or nil (unknown or revoked). Notes its use, at most once a minute.
    public func authenticate(_ secret: String) async throws -> APIToken? {
        guard var token = try await activeToken(secret) else { return nil }
        let now = self.now
        if token.useIsWorthNoting(at: now) {
            try await execute("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1", [.text(token.id), .date(now)])
            token.lastUsedAt = now
        }
        return token
    }

    /// The active token `secret` belongs to, or nil; writes nothing.
    func activeToken(_ secret: String) async throws -> APIToken? {
        try await queryOne(
            "SELECT \(Self.tokenColumns) FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
            [.text(Self.tokenHash(secret))]
        ).map { try Self.token($0) }
    }

    /// Every token, active and revoked, oldest first.
    public func tokens() async throws -> [APIToken] {
        try await query("SELECT \(Self.tokenColumns) FROM api_tokens ORDER BY created_at, id").map(Self.token)
    }

    /// Revokes the active token with this id or name. Returns false when there is none.
    public func revokeToken(_ idOrName: String) async throws -> Bool {
        try await !query(
            """
            UPDATE api_tokens SET revoked_at = $2 WHERE (id = $1 OR name = $1) AND revoked_at IS NULL RETURNING id
            """, [.text(idOrName), .date(now)]
        ).isEmpty
    }

    static func tokenHash(_ secret: String) -> String { sha256Hex(Data(secret.utf8)) }

    static func token(_ row: SQLRow) throws -> APIToken {
        APIToken(
            id: try row.string("id"), name: try row.string("name"), createdAt: try row.date("created_at"),
            revokedAt: try row.optionalDate("revoked_at"), lastUsedAt: try row.optionalDate("last_used_at"))
    }
}

extension APIToken {
    /// A use is noted at most once a minute: the time is for people, and a write on every request would
    /// queue each one for SQLite's one writer connection.
    func useIsWorthNoting(at now: Date) -> Bool { lastUsedAt.map { now.timeIntervalSince($0) >= 60 } ?? true }
}

extension LedgerStore {
    /// `LedgerTransaction.authenticate(_:)` on its own: a read, and a write scope only when the use is
    /// worth noting, so that most requests (every `/v1` one checks its token) never wait for a writer.
    public func authenticate(_ secret: String) async throws -> APIToken? {
        let (found, now) = try await read { tx in (try await tx.activeToken(secret), tx.now) }
        guard let token = found, token.useIsWorthNoting(at: now) else { return found }
        return try await autocommit { try await $0.authenticate(secret) }
    }
}
