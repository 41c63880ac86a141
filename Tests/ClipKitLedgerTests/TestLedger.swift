import ClipKitPostgresHarness
import Foundation
import Logging
import Synchronization
import Testing

@testable import ClipKitLedger

/// A fresh, empty ledger for one test: a new SQLite file, or a new database on the process's private
/// PostgreSQL cluster. `openAnother()` opens a second store on the same database, as a second process would.
struct TestLedger {
    let backend: LedgerBackend
    let location: LedgerLocation
    let clock: ManualClock
    let realTime: Bool
    let store: any LedgerStore
    private let folder: String?
    /// The stores `openAnother()` opened, closed with this one: a test that throws half way must not leave
    /// one to be dropped open.
    private let others = OtherStores()

    /// `realTime`: the stores read the system clock (for a `JobWorker`, which sleeps for real);
    /// otherwise `clock` is the only time they see.
    static func make(_ backend: LedgerBackend, connections: Int = 4, realTime: Bool = false) async throws -> TestLedger {
        let clock = ManualClock()
        switch backend {
        case .sqlite:
            let folder = NSTemporaryDirectory() + "clipkit-ledger-test-" + UUID().uuidString
            let location = LedgerLocation.sqlite(path: folder + "/ledger.sqlite")
            let store = try await Ledger.open(location, options: options(clock, connections, realTime))
            return TestLedger(
                backend: backend, location: location, clock: clock, realTime: realTime, store: store, folder: folder)
        case .postgres:
            let url = try await PostgresCluster.shared().createDatabase()
            let location = try LedgerLocation(parsing: url)
            let store = try await Ledger.open(location, options: options(clock, connections, realTime))
            return TestLedger(
                backend: backend, location: location, clock: clock, realTime: realTime, store: store, folder: nil)
        }
    }

    static func options(_ clock: ManualClock, _ connections: Int, _ realTime: Bool) -> LedgerOptions {
        LedgerOptions(clock: realTime ? .system : .manual(clock), maximumConnections: connections)
    }

    func openAnother(connections: Int = 4, migrate: Bool = true) async throws -> any LedgerStore {
        var options = Self.options(clock, connections, realTime)
        options.migrate = migrate
        let store = try await Ledger.open(location, options: options)
        others.add(store)
        return store
    }

    /// Runs `body` with a fresh ledger, closing it and removing its files afterwards.
    static func with(
        _ backend: LedgerBackend, connections: Int = 4, realTime: Bool = false, _ body: (TestLedger) async throws -> Void
    ) async throws {
        let ledger = try await make(backend, connections: connections, realTime: realTime)
        do {
            try await body(ledger)
        } catch {
            await ledger.close()
            throw error
        }
        await ledger.close()
    }

    func close() async {
        for other in others.all { try? await other.close() }
        try? await store.close()
        if let folder { try? FileManager.default.removeItem(atPath: folder) }
    }

    /// Raw SQL for the tests that must reach past the API (to plant a future schema version).
    func execute(_ sql: String) async throws {
        try await store.transaction { try await $0.execute(sql) }
    }
}

final class OtherStores: Sendable {
    private let stores = Mutex<[any LedgerStore]>([])
    func add(_ store: any LedgerStore) { stores.withLock { $0.append(store) } }
    var all: [any LedgerStore] { stores.withLock { $0 } }
}

extension LedgerBackend: CustomTestStringConvertible {
    public var testDescription: String { rawValue }
}

/// Runs `count` copies of `body` at the same time and returns their results in index order.
func race<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) async throws -> T) async throws -> [T] {
    try await withThrowingTaskGroup(of: (Int, T).self) { group in
        for index in 0..<count { group.addTask { (index, try await body(index)) } }
        var results: [(Int, T)] = []
        for try await result in group { results.append(result) }
        return results.sorted { $0.0 < $1.0 }.map(\.1)
    }
}

/// For the workers under test: what they warn of (a failed claim, completion or heartbeat, a lost lease)
/// and the rescues of expired leases go to stderr, so a job a test waits for in vain, or that ran once
/// more than it should, says why.
let workerLogger: Logger = {
    var logger = Logger(label: "clipkit.jobs.tests")
    logger.logLevel = .notice
    return logger
}()

/// Polls `condition` until it holds, failing the test after `seconds` (a generous bound for a busy
/// machine, not a measurement).
func waitUntil(
    _ what: String, seconds: Double = 600, sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () async throws -> Bool
) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    Issue.record("still waiting after \(seconds) s: \(what)", sourceLocation: sourceLocation)
    throw CancellationError()
}
