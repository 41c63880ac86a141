import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Runs jobs from a ledger: claims up to `concurrency` at a time for the kinds it has handlers for, runs
/// each handler in its own task, renews the leases with heartbeats, reports success or failure, and
/// rescues expired leases (any node's) now and then.
///
/// A `Service` for a swift-service-lifecycle `ServiceGroup`: on graceful shutdown it stops claiming,
/// lets running handlers finish for `shutdownGrace`, then cancels the rest and hands their jobs back
/// (queued at once, the attempt not counted). Cancelling `run()` hands running jobs back at once.
///
/// Delivery is at least once: a handler may run again for the same job after a crash, a stall past the
/// lease, or a lost lease (its task is cancelled when a heartbeat finds the lease gone, but work already
/// done stays done). Make every step safe to repeat, and report results with
/// `JobContext.complete(in:)` inside the transaction that records them, so a stale worker's result is
/// refused with its completion.
public final class JobWorker: Service, Sendable {
    public typealias Handler = @Sendable (JobContext) async throws -> Void

    public struct Configuration: Sendable {
        public var workerID: String
        /// Handlers running at once.
        public var concurrency: Int
        /// How long a claim holds a job without a heartbeat.
        public var lease: Duration
        /// How often the leases of running jobs are renewed (well under `lease`).
        public var heartbeatInterval: Duration
        /// How long to wait before claiming again when nothing was runnable.
        public var idleDelay: Duration
        /// How long to wait before claiming again when fewer jobs were runnable than places were free,
        /// or when fewer than half the places are free: a shallow queue, or handlers finishing one by one,
        /// are then claimed in batches rather than one job per statement.
        public var claimCooldown: Duration
        /// How often this worker runs the lease rescuer; nil: never (another node does).
        public var rescueInterval: Duration?
        /// How long running handlers may take to finish after a graceful shutdown began.
        public var shutdownGrace: Duration
        /// What a handler's error (other than `JobFailure`) does to its job.
        public var retry: RetryPlan

        public init(
            workerID: String = makeWorkerID(), concurrency: Int = 4, lease: Duration = .seconds(30),
            heartbeatInterval: Duration = .seconds(10), idleDelay: Duration = .milliseconds(250),
            claimCooldown: Duration = .milliseconds(10), rescueInterval: Duration? = .seconds(15), shutdownGrace: Duration = .seconds(30),
            retry: RetryPlan = .backoff(.standard)
        ) {
            self.workerID = workerID
            self.concurrency = max(1, concurrency)
            self.lease = lease
            self.heartbeatInterval = heartbeatInterval
            self.idleDelay = idleDelay
            self.claimCooldown = claimCooldown
            self.rescueInterval = rescueInterval
            self.shutdownGrace = shutdownGrace
            self.retry = retry
        }
    }

    public let store: any LedgerStore
    public let configuration: Configuration
    private let handlers: [String: Handler]
    private let logger: Logger
    private let slots: WorkerSlots
    private let completions = CompletionQueue()
    private let running = Mutex<[JobID: RunningJob]>([:])
    /// Finished jobs whose batched completion is not written yet: still heartbeated, so that a slow
    /// database does not let their leases expire and a rescuer hand them out again.
    private let finishing = Mutex<[JobID: JobLease]>([:])
    private let stopping = Mutex(false)

    private struct RunningJob {
        var lease: JobLease
        var task: Task<Void, Never>?
        /// Set when the lease was lost or the job handed back: its outcome is not reported.
        var abandoned = false
    }

    /// - Parameter handlers: by job kind; the worker claims only these kinds.
    public init(
        store: any LedgerStore, configuration: Configuration = Configuration(), handlers: [String: Handler],
        logger: Logger = Logger(label: "clipkit.jobs", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.store = store
        self.configuration = configuration
        self.handlers = handlers
        self.logger = logger
        self.slots = WorkerSlots(configuration.concurrency)
    }

    /// Claims and runs jobs until a graceful shutdown (or `stop()`) has drained them, or until cancelled.
    public func run() async throws {
        // Not a child task: it must flush the last completions even when run() is cancelled.
        let completer = Task { await self.completeInBatches() }
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.every(self.configuration.heartbeatInterval) { await self.heartbeat() } }
                if let interval = configuration.rescueInterval {
                    group.addTask { await self.every(interval) { await self.rescue() } }
                }
                await claimLoop()
                await drain(grace: Task.isCancelled ? .zero : configuration.shutdownGrace)
                completions.close()
                await completer.value
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.stop()
        }
    }

    /// Stops claiming; running handlers get `shutdownGrace` to finish before they are handed back.
    public func stop() {
        stopping.withLock { $0 = true }
        slots.close()
    }

    /// The jobs running now.
    public var runningJobs: [JobID] { running.withLock { Array($0.keys).sorted() } }

    private var isStopping: Bool { stopping.withLock { $0 } }

    private func claimLoop() async {
        let kinds = Set(handlers.keys)
        var failures = 0
        while !isStopping, !Task.isCancelled {
            var free = await slots.acquire(upTo: configuration.concurrency)
            guard free > 0 else { return }
            if free < (configuration.concurrency + 1) / 2 {
                // Few places free: let more handlers finish, so that one claim (and later one completion)
                // serves several jobs instead of one each.
                try? await Task.sleep(for: configuration.claimCooldown)
                free += slots.take(upTo: configuration.concurrency - free)
            }
            let claimed: [ClaimedJob]
            do {
                claimed = try await store.claimJobs(
                    worker: configuration.workerID, kinds: kinds, limit: free, lease: configuration.lease)
                failures = 0
            } catch {
                slots.release(free)
                failures += 1
                logger.error("claiming jobs failed", metadata: ["error": "\(error)", "worker": "\(configuration.workerID)"])
                try? await Task.sleep(for: configuration.idleDelay * min(failures, 20))
                continue
            }
            slots.release(free - claimed.count)
            if isStopping {
                // Stopped while claiming: these never started, hand them straight back.
                _ = try? await store.release(claimed.map(\.lease))
                return
            }
            for job in claimed { start(job) }
            if claimed.isEmpty {
                try? await Task.sleep(for: configuration.idleDelay)
            } else if claimed.count < free {
                try? await Task.sleep(for: configuration.claimCooldown)
            }
        }
    }

    private func start(_ claimed: ClaimedJob) {
        running.withLock { $0[claimed.job.id] = RunningJob(lease: claimed.lease) }
        let task = Task {
            await self.execute(claimed)
            // Only this claim's entry: a job that failed and was retried may be running here again already,
            // under a new claim whose entry the heartbeats must keep renewing (removing it let that lease
            // expire, and a job on its last attempt die: CI-24).
            self.running.withLock { jobs in
                if jobs[claimed.job.id]?.lease.token == claimed.lease.token { jobs[claimed.job.id] = nil }
            }
            self.slots.release(1)
        }
        running.withLock { jobs in
            if jobs[claimed.job.id]?.lease.token == claimed.lease.token { jobs[claimed.job.id]?.task = task }
        }
    }

    private func execute(_ claimed: ClaimedJob) async {
        let context = JobContext(job: claimed.job, lease: claimed.lease, store: store)
        let outcome: Result<Void, any Error>
        if let handler = handlers[claimed.job.kind] {
            do {
                try await handler(context)
                outcome = .success(())
            } catch {
                outcome = .failure(error)
            }
        } else {
            outcome = .failure(JobFailure.permanent("no handler for job kind \(claimed.job.kind)"))
        }
        guard !(running.withLock { $0[claimed.job.id]?.abandoned ?? true }) else { return }
        // Reported from a task of its own: the handler's task may be cancelled, the report must still go.
        await Task {
            do {
                switch outcome {
                case .success:
                    if !context.completed {
                        let lease = running.withLock { $0[claimed.job.id]?.lease } ?? claimed.lease
                        finishing.withLock { $0[lease.jobID] = lease }
                        completions.add(lease)
                    }
                case .failure(let error as JobFailure):
                    try await store.fail(claimed.lease, error: error.message, retry: error.retry)
                case .failure(let error):
                    try await store.fail(claimed.lease, error: "\(error)", retry: configuration.retry)
                }
            } catch {
                logger.warning("reporting job \(claimed.job.id) failed", metadata: ["error": "\(error)"])
            }
        }.value
    }

    /// Completes finished jobs many at a time: whatever finished while the previous batch was being
    /// written goes in the next one, so under load a statement (and a commit) serves many jobs.
    private func completeInBatches() async {
        while let batch = await completions.next() {
            defer { finishing.withLock { jobs in for lease in batch { jobs[lease.jobID] = nil } } }
            do {
                let done = Set(try await store.complete(batch))
                let lost = batch.map(\.jobID).filter { !done.contains($0) }
                if !lost.isEmpty {
                    logger.warning("finished jobs whose leases were lost were not completed", metadata: ["jobs": "\(lost)"])
                }
            } catch {
                logger.error(
                    "completing jobs failed; they will run again when their leases expire",
                    metadata: ["error": "\(error)", "jobs": "\(batch.map(\.jobID))"])
            }
        }
    }

    private func heartbeat() async {
        let leases = running.withLock { $0.values.filter { !$0.abandoned }.map(\.lease) }
            + finishing.withLock { Array($0.values) }
        guard !leases.isEmpty else { return }
        // What the answer applies to: the claims sent, not a later claim of the same job (one that failed,
        // was retried and claimed again here while this heartbeat was under way).
        let sent = Dictionary(leases.map { ($0.jobID, $0.token) }, uniquingKeysWith: { first, _ in first })
        do {
            let result = try await store.heartbeat(leases, lease: configuration.lease)
            finishing.withLock { jobs in
                for lease in result.renewed where jobs[lease.jobID]?.token == lease.token { jobs[lease.jobID] = lease }
            }
            // A finishing job completed since the leases were read is "lost" too: only running ones matter.
            let lost = running.withLock { jobs -> [(JobID, Task<Void, Never>?)] in
                for lease in result.renewed where jobs[lease.jobID]?.lease.token == lease.token { jobs[lease.jobID]?.lease = lease }
                return result.lost.compactMap { id in
                    guard let job = jobs[id], job.lease.token == sent[id] else { return nil }
                    jobs[id]?.abandoned = true
                    return (id, jobs[id]?.task)
                }
            }
            for (_, task) in lost { task?.cancel() }
            if !lost.isEmpty {
                logger.warning("leases lost; their handlers were cancelled", metadata: ["jobs": "\(lost.map(\.0))"])
            }
        } catch {
            logger.error("heartbeat failed", metadata: ["error": "\(error)"])
        }
    }

    private func rescue() async {
        do {
            let report = try await store.rescueExpiredLeases()
            if !report.requeued.isEmpty || !report.dead.isEmpty {
                logger.notice("rescued expired leases", metadata: ["requeued": "\(report.requeued)", "dead": "\(report.dead)"])
            }
        } catch {
            logger.error("rescuing expired leases failed", metadata: ["error": "\(error)"])
        }
    }

    /// Waits up to `grace` for running handlers, then cancels the rest and hands their jobs back.
    private func drain(grace: Duration) async {
        let deadline = ContinuousClock.now + grace
        while !running.withLock({ $0.isEmpty }), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        let (leases, tasks) = running.withLock { jobs -> ([JobLease], [Task<Void, Never>]) in
            var leases: [JobLease] = []
            for id in jobs.keys where !(jobs[id]?.abandoned ?? true) {
                jobs[id]?.abandoned = true
                if let lease = jobs[id]?.lease { leases.append(lease) }
            }
            return (leases, jobs.values.compactMap(\.task))
        }
        guard !leases.isEmpty || !tasks.isEmpty else { return }
        for task in tasks { task.cancel() }
        await Task {
            do {
                let back = try await store.release(leases)
                logger.notice("handed jobs back on shutdown", metadata: ["jobs": "\(back)"])
            } catch {
                logger.error("handing jobs back failed; their leases will expire", metadata: ["error": "\(error)"])
            }
        }.value
        for task in tasks { await task.value }
    }

    private func every(_ interval: Duration, _ body: @Sendable () async -> Void) async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: interval) } catch { return }
            await body()
        }
    }
}

/// What a handler gets: the job, its lease, and the store to record results in.
public struct JobContext: Sendable {
    public let job: Job
    public let lease: JobLease
    public let store: any LedgerStore
    private let completion = CompletionFlag()

    /// A context for a job claimed with `claimJobs` and run outside a `JobWorker` (a one-shot command, or a
    /// test that runs a handler and then abandons it as a crashed worker would).
    public init(job: Job, lease: JobLease, store: any LedgerStore) {
        self.job = job
        self.lease = lease
        self.store = store
    }

    /// No retry is left after this run: a step records its failure on what it works for instead of throwing.
    public var isLastAttempt: Bool { lease.attempt >= lease.maxAttempts }

    /// Whether `error`, thrown by this run's handler, ends the job for good (dead): not a cancellation
    /// (a stopping worker's), and this the last attempt or a failure retrying cannot help. A handler
    /// that must not leave what it works for half done records the failure on it when this holds.
    public func endsForGood(_ error: any Error) -> Bool {
        !(error is CancellationError) && (isLastAttempt || (error as? JobFailure)?.retry == .never)
    }

    /// Marks the job succeeded inside `tx`, beside the handler's own writes: if the lease was lost
    /// meanwhile, this throws `LedgerError.leaseLost` and the whole transaction is rolled back. The
    /// worker then does not complete the job again.
    public func complete(in tx: LedgerTransaction) async throws {
        try await tx.complete(lease)
        completion.set()
    }

    /// Whether the handler completed the job itself with `complete(in:)`.
    public var completed: Bool { completion.isSet }
}

/// A handler's failure that says what to do with the job.
public struct JobFailure: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var retry: RetryPlan

    public init(_ message: String, retry: RetryPlan) {
        self.message = message
        self.retry = retry
    }

    /// Dead now: retrying cannot help (a refused request, a file that is not a clip).
    public static func permanent(_ message: String) -> JobFailure { JobFailure(message, retry: .never) }

    /// Retry after `wait` (a provider's Retry-After), while attempts are left.
    public static func retry(after wait: Duration, _ message: String) -> JobFailure { JobFailure(message, retry: .after(wait)) }

    public var description: String { message }
}

/// Finished jobs waiting to be completed, taken all at once by the worker's completer.
final class CompletionQueue: Sendable {
    private let queue = WaitableState((leases: [JobLease](), closed: false))

    func add(_ lease: JobLease) { queue.change { $0.leases.append(lease) } }

    /// Everything queued, waiting for something when nothing is; nil once closed and empty.
    func next() async -> [JobLease]? {
        await queue.wait { state -> [JobLease]?? in
            guard state.leases.isEmpty else {
                defer { state.leases = [] }
                return .some(state.leases)
            }
            return state.closed ? .some(nil) : nil
        }
    }

    func close() { queue.change { $0.closed = true } }
}

final class CompletionFlag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}

/// The worker's free handler places. The claim loop (the only waiter) takes every free one, up to a
/// limit, waiting when none is; `close()` wakes it with none.
final class WorkerSlots: Sendable {
    private let slots: WaitableState<(free: Int, closed: Bool)>

    init(_ count: Int) { slots = WaitableState((free: count, closed: false)) }

    func acquire(upTo limit: Int) async -> Int {
        await slots.wait { state -> Int? in
            if state.closed { return 0 }
            guard state.free > 0 else { return nil }
            let taken = min(state.free, limit)
            state.free -= taken
            return taken
        }
    }

    /// Takes free places without waiting.
    func take(upTo limit: Int) -> Int {
        slots.change { state in
            let taken = state.closed ? 0 : min(state.free, limit)
            state.free -= taken
            return taken
        }
    }

    func release(_ count: Int) {
        guard count > 0 else { return }
        slots.change { $0.free += count }
    }

    func close() { slots.change { $0.closed = true } }
}

/// State behind a lock, with one task that can wait for it to change.
final class WaitableState<State: Sendable>: Sendable {
    private struct Storage {
        var state: State
        /// Counts changes, so a waiter that arrives after one does not sleep through it.
        var version = 0
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let storage: Mutex<Storage>

    init(_ state: State) { storage = Mutex(Storage(state: state)) }

    /// Applies `take` to the state until it returns a value, sleeping between changes.
    func wait<T: Sendable>(_ take: (inout State) -> T?) async -> T {
        while true {
            let (taken, version) = storage.withLock { storage in (take(&storage.state), storage.version) }
            if let taken { return taken }
            await withCheckedContinuation { continuation in
                let changed = storage.withLock { storage -> Bool in
                    guard storage.version == version else { return true }
                    storage.waiter = continuation
                    return false
                }
                if changed { continuation.resume() }
            }
        }
    }

    /// Changes the state and wakes the waiter.
    @discardableResult
    func change<T: Sendable>(_ body: (inout State) -> T) -> T {
        let (result, waiter) = storage.withLock { storage -> (T, CheckedContinuation<Void, Never>?) in
            let result = body(&storage.state)
            storage.version += 1
            defer { storage.waiter = nil }
            return (result, storage.waiter)
        }
        waiter?.resume()
        return result
    }
}
