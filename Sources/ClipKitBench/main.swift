// Job throughput of the ledger's queue: no-op jobs per second, enqueue + claim + complete, on SQLite and
// on PostgreSQL, with several JobWorkers in one process, then with several worker processes on one
// database (as `clipkit worker` processes share one). Run by bench/jobs.sh.
//
//   ClipKitBench [--jobs N] [--workers 1,2,4] [--processes 1,2,4] [--concurrency C] [--producers P]
//                [--backend sqlite|postgres|both]
//
// Each run uses a fresh database: a new SQLite file (WAL, synchronous=NORMAL), or a new database on a
// private PostgreSQL cluster started for the bench with PostgreSQL's durable defaults (fsync and
// synchronous_commit on). P producer tasks enqueue the jobs one at a time while the workers claim
// (in batches of their free places), run a no-op handler and complete each job; the clock stops when
// every job is succeeded. Figures on stdout, one line per run.
import ClipKitLedger
import ClipKitPostgresHarness
import Foundation
import Synchronization

struct Options {
    var jobs = 20_000
    var workers = [1, 2, 4]
    var processes: [Int] = []
    var concurrency = 16
    var producers = 8
    var backends: [LedgerBackend] = [.sqlite, .postgres]

    init(_ arguments: [String]) throws {
        var rest = arguments[...]
        while let flag = rest.popFirst() {
            guard let value = rest.popFirst() else { throw BenchError("\(flag) needs a value") }
            switch flag {
            case "--jobs": jobs = try number(value, flag)
            case "--concurrency": concurrency = try number(value, flag)
            case "--producers": producers = try number(value, flag)
            case "--workers": workers = try value.split(separator: ",").map { try number(String($0), flag) }
            case "--processes": processes = try value.split(separator: ",").map { try number(String($0), flag) }
            case "--backend":
                backends = value == "both" ? [.sqlite, .postgres] : [try LedgerBackend(rawValue: value).orThrow(flag)]
            default: throw BenchError("unknown option \(flag)")
            }
        }
    }

    private func number(_ text: String, _ flag: String) throws -> Int {
        guard let value = Int(text), value > 0 else { throw BenchError("\(flag): not a positive number: \(text)") }
        return value
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension Optional {
    func orThrow(_ flag: String) throws -> Wrapped {
        guard let self else { throw BenchError("\(flag): unknown value") }
        return self
    }
}

final class Counter: Sendable {
    private let count = Mutex(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}

func log(_ text: String) { FileHandle.standardError.write(Data((text + "\n").utf8)) }

/// CPU seconds used so far by this process and, when given, by a PostgreSQL server and its backends
/// (read from /proc). On a machine shared with other work, jobs per CPU-second say more than jobs per
/// second: the wall clock also counts the time others held the cores.
func cpuSeconds(postmaster: pid_t?) -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    var total = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
        + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    guard let postmaster else { return total }
    let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
        guard let pid = pid_t(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { continue }
        // Fields after the command: state ppid … utime (14) stime (15), counted from 1 at the pid.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let parent = pid_t(fields[1]), pid == postmaster || parent == postmaster,
            let user = Double(fields[11]), let system = Double(fields[12])
        else { continue }
        total += (user + system) / ticks
    }
    return total
}

/// The seconds each phase of one run took.
struct Timings {
    /// Producers alone filling the queue.
    var enqueue = 0.0
    /// Workers alone emptying it (claim, no-op, complete).
    var drain = 0.0
    /// Producers and workers at the same time, from the first enqueue until every job succeeded.
    var mixed = 0.0
    /// CPU seconds (this process and the database server) over all three phases.
    var cpu = 0.0
}

func seconds(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

func produce(_ store: any LedgerStore, _ options: Options, offset: Int) async throws {
    try await withThrowingTaskGroup(of: Void.self) { producers in
        for producer in 0..<options.producers {
            producers.addTask {
                for index in stride(from: producer, to: options.jobs, by: options.producers) {
                    _ = try await store.enqueue(NewJob(kind: "noop", payload: .number(Decimal(offset + index))))
                }
            }
        }
        try await producers.waitForAll()
    }
}

/// Runs workers until `expected` jobs have succeeded (while `during` runs beside them).
func work(
    _ store: any LedgerStore, _ options: Options, workers workerCount: Int, expected: Int,
    during: @escaping @Sendable () async throws -> Void = {}
) async throws {
    let handled = Counter()
    let workers = (0..<workerCount).map { index in
        JobWorker(
            store: store,
            configuration: .init(
                workerID: "bench-\(index)", concurrency: options.concurrency, idleDelay: .milliseconds(50),
                rescueInterval: nil),
            handlers: ["noop": { _ in handled.add() }])
    }
    try await withThrowingTaskGroup(of: Void.self) { group in
        for worker in workers { group.addTask { try await worker.run() } }
        try await during()
        // Watch the handlers in memory (asking the database would load it), then the database for the
        // last completions.
        while handled.value < options.jobs { try await Task.sleep(for: .milliseconds(5)) }
        while try await store.jobCounts().first(where: { $0.state == .succeeded })?.count != expected {
            try await Task.sleep(for: .milliseconds(5))
        }
        for worker in workers { worker.stop() }
        try await group.waitForAll()
    }
}

func run(_ location: LedgerLocation, options: Options, workers workerCount: Int, postmaster: pid_t?) async throws
    -> Timings
{
    let connections = workerCount * 2 + options.producers
    let store = try await Ledger.open(location, options: LedgerOptions(maximumConnections: connections))
    var timings = Timings()
    let cpuBefore = cpuSeconds(postmaster: postmaster)
    var start = ContinuousClock.now
    try await produce(store, options, offset: 0)
    timings.enqueue = seconds(since: start)
    start = ContinuousClock.now
    try await work(store, options, workers: workerCount, expected: options.jobs)
    timings.drain = seconds(since: start)
    start = ContinuousClock.now
    try await work(store, options, workers: workerCount, expected: 2 * options.jobs) {
        try await produce(store, options, offset: options.jobs)
    }
    timings.mixed = seconds(since: start)
    timings.cpu = cpuSeconds(postmaster: postmaster) - cpuBefore
    try await store.close()
    return timings
}

/// The environment variable that hands a worker process its database (a PostgreSQL URL carries a
/// password, which has no place in a command line that `ps` shows).
let databaseVariable = "CLIPKIT_BENCH_DATABASE"

/// One worker process of the multi-process runs (`ClipKitBench --worker-process CONCURRENCY`): a no-op
/// JobWorker on the database in `CLIPKIT_BENCH_DATABASE`, until the bench terminates it.
func runWorkerProcess(concurrency: Int) async throws {
    let text = try ProcessInfo.processInfo.environment[databaseVariable].orThrow(databaseVariable)
    let store = try await Ledger.open(try LedgerLocation(parsing: text), options: LedgerOptions(maximumConnections: 4))
    let worker = JobWorker(
        store: store,
        configuration: .init(
            workerID: "bench-process-\(getpid())", concurrency: concurrency, idleDelay: .milliseconds(50), rescueInterval: nil),
        handlers: ["noop": { _ in }])
    try await worker.run()
}

/// Seconds that `count` worker processes take to run every queued job, from their start (process
/// launch and connecting included) until the database counts all of them succeeded.
func drainWithProcesses(_ database: String, _ store: any LedgerStore, _ options: Options, count: Int) async throws -> Double {
    let start = ContinuousClock.now
    var environment = ProcessInfo.processInfo.environment
    environment[databaseVariable] = database
    var children: [Process] = []
    defer {
        for child in children where child.isRunning { child.terminate() }
        for child in children { child.waitUntilExit() }
    }
    for _ in 0..<count {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
        child.arguments = ["--worker-process", String(options.concurrency)]
        child.environment = environment
        try child.run()
        children.append(child)
    }
    // Asked every 20 ms: a light read beside the workers' claims and completions.
    while try await store.jobCounts().first(where: { $0.state == .succeeded })?.count != options.jobs {
        if let exited = children.first(where: { !$0.isRunning }) {
            throw BenchError("a worker process exited with status \(exited.terminationStatus) before the queue was empty")
        }
        try await Task.sleep(for: .milliseconds(20))
    }
    return seconds(since: start)
}

if CommandLine.arguments.count == 3, CommandLine.arguments[1] == "--worker-process" {
    do {
        try await runWorkerProcess(concurrency: Int(CommandLine.arguments[2]) ?? 16)
        exit(0)
    } catch {
        log("ClipKitBench worker process: \(error)")
        exit(1)
    }
}

let options: Options
do {
    options = try Options(Array(CommandLine.arguments.dropFirst()))
} catch {
    log("ClipKitBench: \(error)")
    exit(2)
}

var cluster: PostgresCluster?
print("jobs/s: enqueue alone, claim+complete alone, and both at once (enqueue + claim + complete, end to end);")
print("jobs/cpu-s: jobs enqueued, claimed and completed (2 × jobs over the three phases) per CPU-second of this process and the database server")
print("backend    workers  concurrency  producers  jobs    enqueue/s  claim+complete/s  end-to-end jobs/s  jobs/cpu-s")
/// A fresh, empty database: its location as text (a path or a URL), and the folder to remove afterwards.
@MainActor func freshDatabase(_ backend: LedgerBackend) async throws -> (text: String, folder: String?) {
    switch backend {
    case .sqlite:
        let folder = NSTemporaryDirectory() + "clipkit-bench-" + UUID().uuidString
        return (folder + "/ledger.sqlite", folder)
    case .postgres:
        if cluster == nil {
            log("starting a private PostgreSQL cluster (durable settings)…")
            cluster = try PostgresCluster.start(durable: true)
        }
        return (try await cluster!.createDatabase(), nil)
    }
}

for backend in options.backends {
    for workerCount in options.workers {
        let (database, folder) = try await freshDatabase(backend)
        let location = try LedgerLocation(parsing: database)
        log("\(backend): \(options.jobs) jobs, \(workerCount) worker(s) × \(options.concurrency), \(options.producers) producers…")
        let postmaster = cluster.flatMap { cluster -> pid_t? in
            guard backend == .postgres, let text = try? String(contentsOfFile: cluster.folder + "/data/postmaster.pid", encoding: .utf8)
            else { return nil }
            return text.split(separator: "\n").first.flatMap { pid_t($0) }
        }
        let timings = try await run(location, options: options, workers: workerCount, postmaster: postmaster)
        if let folder { try? FileManager.default.removeItem(atPath: folder) }
        let rate = { (seconds: Double) in String(format: "%.0f", Double(options.jobs) / seconds) }
        let columns: [(String, Int)] = [
            (backend.rawValue, 10), (String(workerCount), 8), (String(options.concurrency), 12),
            (String(options.producers), 10), (String(options.jobs), 7), (rate(timings.enqueue), 10),
            (rate(timings.drain), 17), (rate(timings.mixed), 18),
            (String(format: "%.0f", Double(2 * options.jobs) / timings.cpu), 0),
        ]
        print(row(columns))
    }
}

func row(_ columns: [(String, Int)]) -> String {
    columns.map { $0.0.padding(toLength: max($0.1, $0.0.count), withPad: " ", startingAt: 0) }.joined(separator: " ")
}

if !options.processes.isEmpty {
    print("")
    print("worker processes on one database: jobs/s claimed and completed by N processes (each a JobWorker × concurrency),")
    print("from their launch until the last queued job is succeeded; x1: against one process in the same run")
    print("backend    processes  concurrency  jobs    jobs/s  x1")
    for backend in options.backends {
        var single: Double?
        for count in options.processes {
            let (database, folder) = try await freshDatabase(backend)
            let store = try await Ledger.open(
                try LedgerLocation(parsing: database), options: LedgerOptions(maximumConnections: options.producers + 1))
            log("\(backend): \(options.jobs) jobs queued, then \(count) worker process(es) × \(options.concurrency)…")
            try await produce(store, options, offset: 0)
            let rate = Double(options.jobs) / (try await drainWithProcesses(database, store, options, count: count))
            try await store.close()
            if let folder { try? FileManager.default.removeItem(atPath: folder) }
            single = single ?? (count == 1 ? rate : nil)
            let ratio = single.map { String(format: "%.2f", rate / $0) } ?? "-"
            print(row([(backend.rawValue, 10), (String(count), 10), (String(options.concurrency), 12),
                       (String(options.jobs), 7), (String(format: "%.0f", rate), 7), (ratio, 0)]))
        }
    }
}
cluster?.stop()
