import Crypto
import Foundation

/// What an idempotent create returned: the resource's id, and whether an earlier request made it.
public struct IdempotentResult: Sendable, Hashable {
    public var resourceID: String
    /// True when the key was seen before with the same request: answer as the first time, create nothing.
    public var replayed: Bool
}

extension LedgerTransaction {
    /// Creates a resource at most once per `key` in `scope` (`Idempotency-Key` on a create).
    ///
    /// The key is written first, then `create` runs and its id is recorded with it. A second call with
    /// the same key returns the first id (`replayed`) without calling `create`; on PostgreSQL a second call
    /// racing the first waits for it to commit. `fingerprint` identifies the request (see
    /// `requestFingerprint(_:)`): the same key with a different request is refused.
    ///
    /// Call it in a `transaction` together with `create`'s own writes, so a failed create leaves no key.
    /// - Throws: `LedgerError.idempotencyKeyReused` for the same key with another fingerprint; what
    ///   `create` throws.
    public func idempotent(
        scope: String, key: String, fingerprint: String, create: () async throws -> String
    ) async throws -> IdempotentResult {
        let claimed = try await queryOne(
            """
            INSERT INTO idempotency_keys (scope, idempotency_key, fingerprint, resource_id, created_at)
            VALUES ($1, $2, $3, NULL, $4) ON CONFLICT DO NOTHING RETURNING scope
            """, [.text(scope), .text(key), .text(fingerprint), .date(now)])
        if claimed != nil {
            let id = try await create()
            try await execute(
                "UPDATE idempotency_keys SET resource_id = $3 WHERE scope = $1 AND idempotency_key = $2",
                [.text(scope), .text(key), .text(id)])
            return IdempotentResult(resourceID: id, replayed: false)
        }
        guard
            let row = try await queryOne(
                "SELECT fingerprint, resource_id FROM idempotency_keys WHERE scope = $1 AND idempotency_key = $2",
                [.text(scope), .text(key)])
        else { throw LedgerError(.database, "idempotency key \(key) of \(scope) was neither written nor found") }
        guard try row.string("fingerprint") == fingerprint else {
            throw LedgerError(.idempotencyKeyReused, "the idempotency key \(key) was used before with a different \(scope) request")
        }
        guard let id = try row.optionalString("resource_id") else {
            throw LedgerError(.conflict, "the \(scope) request with idempotency key \(key) is still being created")
        }
        return IdempotentResult(resourceID: id, replayed: true)
    }

    /// The id recorded for a key, if any.
    public func idempotentResource(scope: String, key: String) async throws -> String? {
        try await queryOne(
            "SELECT resource_id FROM idempotency_keys WHERE scope = $1 AND idempotency_key = $2", [.text(scope), .text(key)]
        )?.optionalString("resource_id")
    }
}

/// Lower-case hex SHA-256 of a request's bytes: the fingerprint an idempotency key is bound to.
public func requestFingerprint(_ bytes: some Sequence<UInt8>) -> String { sha256Hex(Data(bytes)) }

func sha256Hex(_ data: Data) -> String {
    SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
}
