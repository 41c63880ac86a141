import Foundation
import Logging
import NIOCore
import NIOPosix
import SQLiteNIO
import Synchronization

/// The ledger in one SQLite file, in WAL mode: one writer connection, several readers beside it.
///
/// Every write scope is a `BEGIN IMMEDIATE` transaction, which takes SQLite's write lock at its start,
/// so a read-then-write (a claim, a budget check) is never overtaken by another writer, in this process
/// or in another one on the same file (which waits up to the busy timeout). Inside this process writers
/// queue on an async semaphore first, so they wait without polling.
///
/// `synchronous=NORMAL`: a commit survives a crash of the process; after a power cut the last
/// commits may be lost (never corrupted), SQLite's usual trade in WAL mode.
///
/// The WAL is copied into the database file by a `WALCheckpointer` on a connection of its own, not by
/// the commit that happens to fill it: SQLite's automatic checkpoint made one commit in every few of a
/// webhook burst's batches wait several milliseconds, and the burst's whole batch with it.
public final class SQLiteLedgerStore: LedgerStore {
    public let path: String
    public let options: LedgerOptions
    public var backend: LedgerBackend { .sqlite }
    public var location: LedgerLocation { .sqlite(path: path) }

    private let writer: SQLiteConnection
    private let writerThread: SQLiteWriterThread
    private let writeLock = AsyncSemaphore(count: 1)
    private let readers: SQLiteReaderPool
    private let checkpointer: WALCheckpointer
    private let threads: NIOThreadPool
    private let closed = Mutex(false)

    private init(
        path: String, options: LedgerOptions, writer: SQLiteConnection, writerThread: SQLiteWriterThread,
        readers: SQLiteReaderPool, checkpointer: WALCheckpointer, threads: NIOThreadPool
    ) {
        self.path = path
        self.options = options
        self.writer = writer
        self.writerThread = writerThread
        self.readers = readers
        self.checkpointer = checkpointer
        self.threads = threads
    }

    /// Reader connections at most: SQLite serves reads from one file, more would only wait on the disk.
    static let maximumReaders = 4

    /// Opens (creating it and its folder if needed) the ledger file at `path` and applies migrations.
    /// - Throws: `LedgerError.unavailable` naming the file when it cannot be opened as a database.
    public static func open(path: String, options: LedgerOptions = LedgerOptions()) async throws -> SQLiteLedgerStore {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: absolute, isDirectory: &isDirectory), isDirectory.boolValue {
            throw LedgerError(.unavailable, "cannot open the ledger \(absolute): it is a directory")
        }
        let folder = URL(fileURLWithPath: absolute).deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw LedgerError(.unavailable, "cannot create the folder \(folder) for the ledger: \(error.localizedDescription)")
        }
        // Each store has threads of its own: a statement waiting for another process's write lock sleeps
        // in SQLite's busy handler, and must not hold a thread that this store's lock holder needs.
        // The writer's thread (`SQLiteWriterThread`), and one each for the readers and the checkpointer.
        let readerCount = min(max(1, options.maximumConnections), maximumReaders)
        let writerThread = SQLiteWriterThread()
        let threads = NIOThreadPool(numberOfThreads: 1 + readerCount)
        threads.start()
        var connections: [SQLiteConnection] = []
        do {
            connections.append(try await openConnection(absolute, threads: writerThread.pool))
            for _ in 0...readerCount { connections.append(try await openConnection(absolute, threads: threads)) }
        } catch {
            for connection in connections { try? await connection.close() }
            try? await threads.shutdownGracefully()
            throw error
        }
        let store = SQLiteLedgerStore(
            path: absolute, options: options, writer: connections[0], writerThread: writerThread,
            readers: SQLiteReaderPool(Array(connections[1...readerCount])),
            checkpointer: WALCheckpointer(connection: connections[readerCount + 1]), threads: threads)
        return try await Schema.prepared(store)
    }

    private static func openConnection(_ path: String, threads: NIOThreadPool) async throws -> SQLiteConnection {
        let connection: SQLiteConnection
        do {
            connection = try await SQLiteConnection.open(
                storage: .file(path: path), threadPool: threads, logger: quietLogger,
                on: MultiThreadedEventLoopGroup.singleton.any())
        } catch {
            throw LedgerError(.unavailable, "cannot open the ledger \(path): \(SQLiteExecutor.reason(error))")
        }
        do {
            let executor = SQLiteExecutor(connection: connection)
            // WAL first: the other settings and the first read fail clearly on a file that is not a database.
            try await executor.execute("PRAGMA journal_mode = WAL")
            try await executor.execute("PRAGMA synchronous = NORMAL")
            try await executor.execute("PRAGMA busy_timeout = 10000")
            try await executor.execute("PRAGMA foreign_keys = ON")
            // A statement's journal (kept to undo one statement of a transaction) in memory, not in a
            // temporary file: a burst's multi-row insert wrote a temporary file for every batch.
            try await executor.execute("PRAGMA temp_store = MEMORY")
            // Only a backstop (40 MB) for a checkpointer that cannot keep up: see WALCheckpointer.
            try await executor.execute("PRAGMA wal_autocheckpoint = \(WALCheckpointer.backstopPages)")
        } catch {
            try? await connection.close()
            throw LedgerError(.unavailable, "cannot open the ledger \(path): \(error)")
        }
        return connection
    }

    static let quietLogger = Logger(label: "clipkit.ledger.sqlite", factory: { _ in SwiftLogNoOpLogHandler() })


    public var writeExecutor: (any TaskExecutor)? { writerThread }

    @discardableResult
    public func transaction<T: Sendable>(_ body: (LedgerTransaction) async throws -> T) async throws -> T {
        try await writeLock.withPlace {
            try ensureOpen()
            defer { checkpointer.noteCommit() }
            return try await Self.inTransaction(SQLiteExecutor(connection: writer), begin: "BEGIN IMMEDIATE") { executor in
                try await body(LedgerTransaction(executor: executor, backend: .sqlite, clock: options.clock))
            }
        }
    }

    /// SQLite has no cheaper scope for writes than an immediate transaction: a statement outside one
    /// would take the write lock late and could fail instead of waiting.
    @discardableResult
    public func autocommit<T: Sendable>(_ body: (LedgerTransaction) async throws -> T) async throws -> T {
        try await transaction(body)
    }

    public func read<T: Sendable>(_ body: (LedgerTransaction) async throws -> T) async throws -> T {
        try ensureOpen()
        return try await readers.withConnection { connection in
            try ensureOpen()
            return try await Self.inTransaction(SQLiteExecutor(connection: connection), begin: "BEGIN") { executor in
                try await body(LedgerTransaction(executor: executor, backend: .sqlite, clock: options.clock))
            }
        }
    }

    private static func inTransaction<T>(
        _ executor: SQLiteExecutor, begin: String, _ body: (SQLiteExecutor) async throws -> T
    ) async throws -> T {
        try await executor.execute(begin)
        do {
            let result = try await body(executor)
            try await executor.end("COMMIT")
            return result
        } catch {
            try? await executor.end("ROLLBACK")
            throw error
        }
    }

    /// Closes the connections once the scope in progress has ended. A scope asked for afterwards, or
    /// waiting for the write lock meanwhile, fails with `LedgerError.unavailable` instead of waiting.
    public func close() async throws {
        guard !closed.withLock({ closed in defer { closed = true }; return closed }) else { return }
        await writeLock.wait()
        await checkpointer.stop()
        try? await writer.close()
        await readers.closeAll()
        try? await threads.shutdownGracefully()
        // Each waiter wakes, finds the store closed and hands the place on to the next.
        writeLock.signal()
    }

    private func ensureOpen() throws {
        if closed.withLock({ $0 }) { throw LedgerError(.unavailable, "the ledger \(path) is closed") }
    }
}

/// The reader connections, each lent to one scope at a time.
final class SQLiteReaderPool: Sendable {
    private let free: Mutex<[SQLiteConnection]>
    private let places: AsyncSemaphore
    private let all: [SQLiteConnection]

    init(_ connections: [SQLiteConnection]) {
        all = connections
        free = Mutex(connections)
        places = AsyncSemaphore(count: connections.count)
    }

    func withConnection<T>(_ body: (SQLiteConnection) async throws -> T) async throws -> T {
        try await places.withPlace {
            let connection = free.withLock { $0.removeLast() }
            defer { free.withLock { $0.append(connection) } }
            return try await body(connection)
        }
    }

    func closeAll() async {
        for connection in all { try? await connection.close() }
    }
}

/// The writer connection's thread, which is also an executor: a caller that runs its transactions'
/// code here (`GroupCommit`, through `writeExecutor`) hands each statement to this thread and is resumed
/// on it, so a transaction goes from `BEGIN` to `COMMIT` without waiting for another thread to be
/// scheduled. On two cores busy with a burst of requests each such wait was a slice of the scheduler's,
/// and a batch of one delivery lasted as long as the burst's arrival. Other transactions only have
/// their statements run here, as before on a thread of the store's pool.
final class SQLiteWriterThread: TaskExecutor {
    let pool = NIOThreadPool(numberOfThreads: 1)

    init() { pool.start() }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        // The pool stops only once this object is gone (deinit), and an enqueue holds it.
        pool.submit { _ in job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }

    deinit { pool.shutdownGracefully { _ in } }
}

/// Copies the WAL into the database file on a connection of its own, half a second after the last
/// checkpoint when anything was committed since: beside the writer (a passive checkpoint takes no lock a
/// writer or a reader waits for), never inside a commit.
final class WALCheckpointer: Sendable {
    /// SQLite's own checkpoint, left on the writer only for a WAL this long (40 MB of 4 KiB pages).
    static let backstopPages = 10_000

    private let connection: SQLiteConnection
    private let commits = Atomic<Int>(0)
    private let loop: Mutex<Task<Void, Never>?> = Mutex(nil)

    init(connection: SQLiteConnection, interval: Duration = .milliseconds(500)) {
        self.connection = connection
        // Weakly held: a store dropped without `close()` ends the loop at its next wake.
        let task = Task { [weak self] in
            var checkpointed = 0
            while (try? await Task.sleep(for: interval)) != nil, let self {
                let committed = self.commits.load(ordering: .relaxed)
                guard committed != checkpointed else { continue }
                checkpointed = committed
                // A failed checkpoint (the file busy with another process's) is the next one's to do.
                _ = try? await self.connection.query("PRAGMA wal_checkpoint(PASSIVE)")
            }
        }
        loop.withLock { $0 = task }
    }

    /// After each write scope (one rolled back only costs a checkpoint that finds nothing new).
    func noteCommit() { commits.add(1, ordering: .relaxed) }

    /// Ends the loop and closes its connection.
    func stop() async {
        guard let task = loop.withLock({ $0.take() }) else { return }
        task.cancel()
        await task.value
        try? await connection.close()
    }
}

/// Runs the shared SQL on one SQLite connection.
struct SQLiteExecutor: SQLExecutor {
    let connection: SQLiteConnection

    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        // The shared SQL numbers its parameters `$1`, `$2`; SQLite's spelling of a numbered one is `?1`.
        // Byte by byte: Foundation's replacingOccurrences cost a webhook burst's batch more than its rows.
        let text = String(decoding: sql.utf8.map { $0 == UInt8(ascii: "$") ? UInt8(ascii: "?") : $0 }, as: UTF8.self)
        let rows: [SQLiteRow]
        do {
            rows = try await connection.query(text, binds.map(Self.data))
        } catch {
            throw LedgerError(.database, "SQLite refused \(Self.summary(sql)): \(Self.reason(error))")
        }
        return rows.map { row in
            var values: [String: SQLValue] = [:]
            for column in row.columns { values[column.name] = Self.value(column.data) }
            return SQLRow(values: values)
        }
    }

    private static func data(_ value: SQLValue) -> SQLiteData {
        switch value {
        case .null: .null
        case .int(let value): .integer(SQLiteInt64(value))
        case .text(let text), .json(let text): .text(text)
        case .bool(let value): .integer(value ? 1 : 0)
        case .date(let date): .integer(SQLiteInt64(date.ledgerMicroseconds))
        case .decimal(let amount): .text(amount.description)
        }
    }

    private static func value(_ data: SQLiteData) -> SQLValue {
        switch data {
        case .null: .null
        case .integer(let value): .int(Int64(value))
        case .text(let text): .text(text)
        // The schema stores no floating-point values; a REAL here can only come from outside ClipKit.
        case .float(let value): .text(String(value))
        case .blob(let buffer): .text(String(buffer: buffer))
        }
    }

    /// The statement's first words, enough to say which one failed without dumping it.
    static func summary(_ sql: String) -> String {
        let words = sql.split(whereSeparator: \.isWhitespace).prefix(4).joined(separator: " ")
        return "\"\(words)…\""
    }

    static func reason(_ error: any Error) -> String {
        if let error = error as? SQLiteError { return error.message }
        return "\(error)"
    }
}
