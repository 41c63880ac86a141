import ClipKitCore
import ClipKitLedger
import ClipKitMedia
import ClipKitPostgresHarness
import ClipKitProviders
import ClipKitSandbox
import ClipKitSandboxTestSupport
import ClipKitService
import Foundation
import Logging
import Synchronization
import Testing

/// A sandbox, a fresh ledger (a new SQLite file or a new database on the private PostgreSQL cluster)
/// and a data directory for one test, with a `TaskService` over them; all removed afterwards.
struct ServiceHarness {
    let session: SandboxSession
    let ledger: any LedgerStore
    let data: String
    let service: TaskService

    /// Fast retries and polling: the sandbox answers in milliseconds.
    static let fast = RetryPolicy(maxAttempts: 8, initialDelay: .milliseconds(5), maxDelay: .milliseconds(40))

    static var configuration: TaskService.Configuration {
        TaskService.Configuration(
            pollSlice: .seconds(2),
            runner: RunnerOptions(pollInterval: .milliseconds(40), maxPollInterval: .milliseconds(200), submitRetry: fast,
                                  downloadRetry: fast, listingSettle: .milliseconds(50)))
    }

    /// - Parameter wrap: lets a test stand between the service and the real client.
    static func with(_ backend: LedgerBackend, faults: SandboxFaults = .fast, configuration: TaskService.Configuration = configuration,
                     wrap: @escaping @Sendable (any VideoProvider) -> any VideoProvider = { $0 },
                     _ body: (ServiceHarness) async throws -> Void) async throws {
        try await SandboxSession.with(faults, scratch: "service-" + UUID().uuidString.prefix(8)) { session in
            let location: String
            switch backend {
            case .sqlite: location = session.path("ledger.sqlite")
            case .postgres: location = try await PostgresCluster.shared().createDatabase()
            }
            let ledger = try await Ledger.open(location)
            let client = try ProviderKind.dashscope.client(
                credentials: ProviderCredentials(apiKey: APIKey(SandboxSession.apiKey), baseURL: nil), transport: session.transport,
                media: FFmpegToolkit(), baseURL: session.sandbox.baseURL, retry: fast)
            let wrapped = wrap(client)
            let providers = ProviderDirectory(transport: session.transport) { name in
                guard name == "dashscope" else { throw TaskServiceError(.unknownProvider, "no provider \(name)") }
                return wrapped
            }
            let data = session.path("data")
            let harness = ServiceHarness(session: session, ledger: ledger, data: data,
                                         service: TaskService(ledger: ledger, dataDirectory: data, providers: providers,
                                                              configuration: configuration))
            do {
                try await body(harness)
            } catch {
                try? await ledger.close()
                throw error
            }
            try await ledger.close()
        }
    }

    /// Runs a job worker with the service's handlers (of `kinds`, or all) until `done` holds, then stops it.
    func runJobs(only kinds: Set<String>? = nil, until what: String,
                 _ done: @escaping @Sendable () async throws -> Bool) async throws {
        let worker = JobWorker(store: ledger, configuration: .init(
            concurrency: 4, heartbeatInterval: .seconds(2), idleDelay: .milliseconds(20), rescueInterval: .milliseconds(500),
            retry: .backoff(Backoff(base: .milliseconds(50), maximum: .seconds(1)))),
            handlers: service.handlers().filter { kinds?.contains($0.key) ?? true }, logger: workerLogger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await worker.run() }
            defer { worker.stop() }
            do {
                try await waitUntil(what, done)
            } catch {
                let jobs = try await ledger.jobs(limit: 1000).map {
                    "\($0.kind) \($0.state) attempts \($0.attempts) run at \($0.runAt) \($0.lastError ?? "")"
                }
                Issue.record(Comment(rawValue: "jobs when the wait ended:\n" + jobs.joined(separator: "\n")))
                throw error
            }
            worker.stop()
            try await group.waitForAll()
        }
    }

    /// Runs jobs until every task job is final.
    func runAllJobs() async throws {
        try await runJobs(until: "every task job is final") {
            let counts = try await ledger.jobCounts()
            return !counts.isEmpty && counts.allSatisfy { $0.state.isFinal }
        }
    }

    /// Tasks created at the sandbox (lost answers included): what "submitted twice" is measured by.
    func created() async -> Int { await session.sandbox.stats().created(.dashscope) }

    func clips() async throws -> [ClipRecord] { try await ledger.read { try await $0.clips() } }
}

/// What the service tests' workers warn of (a failed heartbeat or completion, a lost lease) and their
/// rescues of expired leases, on stderr: a job that went dead under CI's load says why (CI-24's submit
/// job "whose lease expired before the job finished" had said nothing).
let workerLogger: Logger = {
    var logger = Logger(label: "clipkit.service.tests")
    logger.logLevel = .notice
    return logger
}()

/// A t2v request the sandbox renders quickly.
func lighthouse(_ prompt: String = "a lighthouse at dusk") -> TaskRequest {
    TaskRequest(provider: "dashscope", model: "wan2.2-t2v-plus", prompt: prompt, resolution: "480P", duration: 5)
}

/// Polls `condition` until it holds, failing the test after `seconds` (a generous bound for a busy
/// machine, not a measurement).
func waitUntil(_ what: String, seconds: Double = 1200, sourceLocation: SourceLocation = #_sourceLocation,
               _ condition: () async throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    Issue.record("still waiting after \(seconds) s: \(what)", sourceLocation: sourceLocation)
    throw CancellationError()
}

extension LedgerBackend: CustomTestStringConvertible {
    public var testDescription: String { rawValue }
}

/// A client that sends its first submission and then hangs, as a worker does that dies after the
/// provider accepted the task and before the answer was recorded.
struct HangsAfterFirstSubmit: VideoProvider {
    let base: any VideoProvider
    let sent = Counter()

    var name: String { base.name }
    var endpoint: String { base.endpoint }
    var supportsCancel: Bool { base.supportsCancel }
    var supportsTaskListing: Bool { base.supportsTaskListing }
    var media: any MediaToolkit { base.media }

    func prepare(_ request: GenerationRequest) async throws -> PreparedSubmission { try await base.prepare(request) }

    func submitOnce(_ submission: PreparedSubmission) async throws -> SubmittedTask {
        let task = try await base.submitOnce(submission)
        if sent.next() == 1 {
            try await Task.sleep(for: .seconds(3600))
        }
        return task
    }

    func status(taskID: String) async throws -> TaskSnapshot { try await base.status(taskID: taskID) }
    func cancel(taskID: String) async throws { try await base.cancel(taskID: taskID) }
    func recentTasks(model: String, since: Date) async throws -> [ListedTask] { try await base.recentTasks(model: model, since: since) }
}

final class Counter: Sendable {
    private let value = Mutex(0)
    func next() -> Int { value.withLock { $0 += 1; return $0 } }
}
