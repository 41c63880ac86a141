import ClipKitCore
import ClipKitPostgresHarness
import Foundation
import Testing

@testable import ClipKitLedger

@Suite("Ledger locations and opening") struct LocationTests {
    @Test("--database text: SQLite paths and PostgreSQL URLs, passwords never shown")
    func parsing() throws {
        #expect(try LedgerLocation(parsing: "sqlite:///var/lib/clipkit/ledger.sqlite") == .sqlite(path: "/var/lib/clipkit/ledger.sqlite"))
        #expect(try LedgerLocation(parsing: "data/ledger.sqlite") == .sqlite(path: "data/ledger.sqlite"))
        #expect(try LedgerLocation(parsing: "sqlite:rel/l.sqlite") == .sqlite(path: "rel/l.sqlite"))
        #expect(LedgerLocation.defaultLocation(dataDirectory: "/srv/clipkit-data") == .sqlite(path: "/srv/clipkit-data/ledger.sqlite"))

        let url = try LedgerLocation(parsing: "postgres://clip%40kit:s3cr%2Ft@db.internal:6432/ledger?sslmode=require")
        guard case .postgres(let server) = url else {
            Issue.record("not PostgreSQL: \(url)")
            return
        }
        #expect(server == PostgresLocation(
            host: "db.internal", port: 6432, username: "clip@kit", password: "s3cr/t", database: "ledger", tls: .require))
        #expect(url.description == "postgres://clip@kit:***@db.internal:6432/ledger")
        #expect(!url.description.contains("s3cr"))
        let defaults = try PostgresLocation(parsing: "postgresql://clipkit@localhost")
        #expect(defaults.port == 5432 && defaults.database == "clipkit" && defaults.tls == .prefer && defaults.password == nil)

        for bad in ["", "mysql://u:p@h/db", "postgres://:pw@host/db", "postgres://user:topsecret@/db",
                    "postgres://u:topsecret@h/db?sslmode=sometimes", "postgres://u:topsecret@h/db?search_path=x", "sqlite://"] {
            #expect(throws: LedgerError.badLocation, "\(bad)") { try LedgerLocation(parsing: bad) }
            do {
                _ = try LedgerLocation(parsing: bad)
            } catch {
                #expect(!"\(error)".contains("topsecret"), "\(error)")
            }
        }
    }

    @Test("a file that is not a ledger is refused with its path")
    func notADatabase() async throws {
        let folder = NSTemporaryDirectory() + "clipkit-ledger-bad-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/ledger.sqlite"
        try Data("<Error><Code>AccessDenied</Code></Error>".utf8).write(to: URL(fileURLWithPath: path))
        do {
            _ = try await Ledger.open(.sqlite(path: path))
            Issue.record("opened a text file as a ledger")
        } catch let error as LedgerError {
            #expect(error.code == .unavailable)
            #expect(error.message.contains(path), "\(error)")
        }
        await #expect(throws: LedgerError.unavailable) { _ = try await Ledger.open(.sqlite(path: folder)) }
    }

    @Test("a wrong PostgreSQL password or database is one clear error without the password")
    func unreachablePostgres() async throws {
        let cluster = try await PostgresCluster.shared()
        let wrong = "postgres://clipkit:not-the-password@127.0.0.1:\(cluster.port)/postgres?sslmode=disable"
        do {
            _ = try await Ledger.open(wrong)
            Issue.record("opened with a wrong password")
        } catch let error as LedgerError {
            #expect(error.code == .unavailable)
            #expect(error.message.contains("password authentication failed"), "\(error)")
            #expect(!error.message.contains("not-the-password"), "\(error)")
        }
        let missing = cluster.url(database: "no_such_database")
        await #expect(throws: LedgerError.unavailable) { _ = try await Ledger.open(missing) }
    }

    @Test("migrations are versioned, applied once however many nodes open at once, and refuse a newer schema",
          arguments: LedgerBackend.allCases)
    func migrations(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(backend) { ledger in
            #expect(try await ledger.store.schemaVersion() == Ledger.schemaVersion)
            let others = try await race(4) { _ in try await ledger.openAnother() }
            let applied = try await ledger.store.read { try await Schema.appliedMigrations($0) }
            #expect(applied.map(\.version) == Schema.migrations.map(\.version))
            #expect(applied.map(\.name) == Schema.migrations.map(\.name))
            for other in others {
                #expect(try await other.schemaVersion() == Ledger.schemaVersion)
                try await other.close()
            }
            let appliedAt = backend == .postgres ? "now()" : "0"
            try await ledger.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (\(Ledger.schemaVersion + 1), 'from the future', \(appliedAt))")
            do {
                _ = try await ledger.openAnother()
                Issue.record("opened a ledger with a newer schema")
            } catch let error as LedgerError {
                #expect(error.code == .schemaMismatch)
                #expect(error.message.contains("upgrade clipkit"), "\(error)")
            }
        }
    }

    @Test("without migrations, an empty database is refused rather than used", arguments: LedgerBackend.allCases)
    func migrateOff(_ backend: LedgerBackend) async throws {
        let location: LedgerLocation
        let folder = NSTemporaryDirectory() + "clipkit-ledger-test-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: folder) }
        switch backend {
        case .sqlite: location = .sqlite(path: folder + "/ledger.sqlite")
        case .postgres: location = try LedgerLocation(parsing: try await PostgresCluster.shared().createDatabase())
        }
        await #expect(throws: LedgerError.schemaMismatch) {
            _ = try await Ledger.open(location, options: LedgerOptions(migrate: false))
        }
        let migrated = try await Ledger.withLedger(location) { try await $0.schemaVersion() }
        #expect(migrated == Ledger.schemaVersion)
        let reopened = try await Ledger.withLedger(location, options: LedgerOptions(migrate: false)) {
            try await $0.schemaVersion()
        }
        #expect(reopened == Ledger.schemaVersion)
    }

    @Test("a closed SQLite ledger refuses later scopes with a clear error instead of waiting for ever")
    func closedRefuses() async throws {
        let folder = NSTemporaryDirectory() + "clipkit-ledger-closed-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try await Ledger.open(.sqlite(path: folder + "/ledger.sqlite"))
        #expect(try await store.schemaVersion() == Ledger.schemaVersion)
        try await store.close()
        await #expect(throws: LedgerError.unavailable) { try await store.transaction { _ in } }
        await #expect(throws: LedgerError.unavailable) { try await store.read { _ in } }
        try await store.close()  // a second close is a no-op
    }

    @Test("a SQLite ledger's WAL is copied into its file beside the commits, not by the commit that fills it")
    func backgroundCheckpoint() async throws {
        try await TestLedger.with(.sqlite) { ledger in
            guard case .sqlite(let path) = ledger.location else { return }
            func bytes(_ file: String) -> Int { (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0 }
            let before = bytes(path)
            // 2 MB of payloads: 500 pages, far below the backstop at which a commit checkpoints itself.
            let payload = JSONValue.string(String(repeating: "x", count: 100_000))
            // In one transaction: a checkpoint between two would let the next restart the WAL from its start.
            try await ledger.store.transaction { tx in
                for index in 0..<20 { _ = try await tx.enqueue(NewJob(kind: "bulk", payload: payload, uniqueKey: "bulk-\(index)")) }
            }
            #expect(bytes(path + "-wal") > 2_000_000)
            // The checkpointer wakes every half second; a generous bound, never a timing claim.
            let deadline = ContinuousClock.now + .seconds(30)
            while bytes(path) < before + 2_000_000, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
            #expect(bytes(path) >= before + 2_000_000, "the ledger file still holds \(bytes(path)) bytes")
            #expect(try await ledger.store.jobs(limit: 100).count == 20)
        }
    }
}
