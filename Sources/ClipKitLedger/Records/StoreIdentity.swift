import Foundation

extension LedgerTransaction {
    /// This ledger's own id (`ledger_…`), made once by whichever node asks first and never changed. Nodes
    /// that share a ledger compare it with their data directory's marker, so that a worker pointed at an
    /// unmounted or foreign directory refuses to start instead of writing clips nobody else can see.
    public func storeIdentity() async throws -> String {
        try await execute(
            "INSERT INTO store_identity (singleton, id, created_at) VALUES (1, $1, $2) ON CONFLICT (singleton) DO NOTHING",
            [.text(RecordID.make("ledger")), .date(now)])
        guard let row = try await queryOne("SELECT id FROM store_identity WHERE singleton = 1") else {
            throw LedgerError(.corruptRecord, "the ledger has no identity row after making one")
        }
        return try row.string("id")
    }
}
