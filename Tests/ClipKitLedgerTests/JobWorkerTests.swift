import ClipKitCore
import Foundation
import Synchronization
import Testing

@testable import ClipKitLedger

@Suite("Job worker") struct JobWorkerTests {
    @Test("a job retried and claimed again while its first claim is still winding up keeps its heartbeats",
          arguments: LedgerBackend.allCases)
    func reclaimedJobKeepsItsLease(_ backend: LedgerBackend) async throws {
        // More places than jobs, so that each job is claimed again the moment it is retried; each second
        // attempt outlives its lease. Each first attempt fails and is retried at once, with heartbeats sent every few milliseconds so
        // that one is in flight whenever a claim changes hands, and every answer of the store comes late,
        // as under CI's load, so that a claim's winding up overlaps the next claim. Before the fix, a heartbeat's answer about
        // the first claim abandoned the second, or the first claim's ending removed the second's entry
        // from the heartbeats: its lease expired and, on its last attempt, it died (CI-24).
        try await TestLedger.with(backend, realTime: true) { ledger in
            let runs = Tally()
            try await ledger.store.transaction { tx in
                for index in 0..<12 { _ = try await tx.enqueue(NewJob(kind: "flaky", uniqueKey: "flaky-\(index)", maxAttempts: 2)) }
            }
            let handlers: [String: JobWorker.Handler] = [
                "flaky": { context in
                    runs.add("attempt \(context.lease.attempt)")
                    if context.lease.attempt == 1 { throw JobFailure.retry(after: .zero, "HTTP 429") }
                    try await Task.sleep(for: .milliseconds(3500))
                }
            ]
            let worker = JobWorker(
                store: LateAnswers(ledger.store),
                configuration: .init(concurrency: 24, lease: .seconds(3), heartbeatInterval: .milliseconds(2),
                                     idleDelay: .milliseconds(1), rescueInterval: .milliseconds(50)),
                handlers: handlers, logger: workerLogger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await worker.run() }
                try await waitUntil("every job is final") {
                    try await ledger.store.jobCounts().allSatisfy { $0.state.isFinal }
                }
                worker.stop()
                try await group.waitForAll()
            }
            let jobs = try await ledger.store.jobs(kind: "flaky")
            #expect(jobs.map(\.state) == Array(repeating: .succeeded, count: 12), "\(jobs.map { "\($0.id) \($0.state) \($0.lastError ?? "")" })")
            #expect(runs.counts == ["attempt 1": 12, "attempt 2": 12])
        }
    }

    @Test("workers run every job once, retry a failing one and bury a permanent failure", arguments: LedgerBackend.allCases)
    func runsJobs(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(backend, realTime: true) { ledger in
            let runs = Tally()
            try await ledger.store.transaction { tx in
                for index in 0..<30 { _ = try await tx.enqueue(NewJob(kind: "noop", payload: .number(Decimal(index)))) }
                _ = try await tx.enqueue(NewJob(kind: "flaky", uniqueKey: "flaky"))
                _ = try await tx.enqueue(NewJob(kind: "refused", uniqueKey: "refused"))
                _ = try await tx.enqueue(NewJob(kind: "unhandled", uniqueKey: "unhandled"))
            }
            let handlers: [String: JobWorker.Handler] = [
                "noop": { context in runs.add("noop:\(context.job.payload)") },
                "flaky": { context in
                    runs.add("flaky")
                    if context.lease.attempt == 1 { throw JobFailure.retry(after: .zero, "HTTP 429") }
                },
                "refused": { _ in
                    runs.add("refused")
                    throw JobFailure.permanent("400: the prompt was refused")
                },
            ]
            let other = try await ledger.openAnother()
            let workers = [ledger.store, other].enumerated().map { index, store in
                JobWorker(
                    store: store,
                    configuration: .init(workerID: "worker-\(index)", concurrency: 3, idleDelay: .milliseconds(20)),
                    handlers: handlers, logger: workerLogger)
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in workers { group.addTask { try await worker.run() } }
                try await waitUntil("every handled job is final") {
                    let counts = try await ledger.store.jobCounts()
                    return counts.filter { $0.kind != "unhandled" }.allSatisfy { $0.state.isFinal }
                        && counts.filter { $0.state == .succeeded }.map(\.count).reduce(0, +) == 31
                }
                for worker in workers { worker.stop() }
                try await group.waitForAll()
            }
            #expect(runs.counts.filter { $0.key.hasPrefix("noop:") }.count == 30)
            #expect(runs.counts.filter { $0.key.hasPrefix("noop:") }.allSatisfy { $0.value == 1 })
            #expect(runs.counts["flaky"] == 2)
            #expect(runs.counts["refused"] == 1)
            let refused = try #require(try await ledger.store.jobs(kind: "refused").first)
            #expect(refused.state == .dead && refused.lastError == "400: the prompt was refused")
            let flaky = try #require(try await ledger.store.jobs(kind: "flaky").first)
            #expect(flaky.state == .succeeded && flaky.attempts == 2 && flaky.lastError == "HTTP 429")
            #expect(try await ledger.store.jobs(kind: "unhandled").first?.state == .queued)
            // Which worker ran how many is up to the machine's timing (one may claim them all).
            let ranBy = Set(try await ledger.store.jobs(kind: "noop").compactMap(\.workerID))
            #expect(!ranBy.isEmpty && ranBy.isSubset(of: ["worker-0", "worker-1"]))
            try await other.close()
        }
    }

    @Test("on shutdown a running job finishes within the grace; one that overruns is handed back", arguments: LedgerBackend.allCases)
    func gracefulShutdown(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(backend, realTime: true) { ledger in
            let gate = Gate()
            let finishing = try await ledger.store.enqueue(NewJob(kind: "finishing")).job
            let stuck = try await ledger.store.enqueue(NewJob(kind: "stuck", maxAttempts: 1)).job
            let worker = JobWorker(
                store: ledger.store,
                configuration: .init(concurrency: 2, idleDelay: .milliseconds(20), shutdownGrace: .seconds(5)),
                handlers: [
                    "finishing": { _ in await gate.wait() },
                    "stuck": { _ in try await Task.sleep(for: .seconds(600)) },
                    "late": { _ in Issue.record("claimed after the shutdown began") },
                ])
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await worker.run() }
                try await waitUntil("both jobs running") { worker.runningJobs.count == 2 }
                worker.stop()
                _ = try await ledger.store.enqueue(NewJob(kind: "late"))
                gate.open()
                try await group.waitForAll()
            }
            #expect(try await ledger.store.job(finishing.id)?.state == .succeeded)
            let handedBack = try #require(try await ledger.store.job(stuck.id))
            #expect(handedBack.state == .queued)
            #expect(handedBack.attempts == 0)  // its one attempt is still to come
            #expect(try await ledger.store.jobs(kind: "late").first?.state == .queued)
        }
    }

    @Test("a heartbeat that finds the lease taken cancels the handler, whose outcome is not reported",
          arguments: LedgerBackend.allCases)
    func lostLease(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(backend, realTime: true) { ledger in
            let seen = LeaseBox()
            let job = try await ledger.store.enqueue(NewJob(kind: "download")).job
            let worker = JobWorker(
                store: ledger.store,
                configuration: .init(
                    concurrency: 1, lease: .seconds(60), heartbeatInterval: .milliseconds(100), idleDelay: .milliseconds(20)),
                handlers: [
                    "download": { context in
                        seen.set(context.lease)
                        do {
                            try await Task.sleep(for: .seconds(600))
                        } catch {
                            seen.cancelled()
                            throw error
                        }
                    }
                ])
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await worker.run() }
                try await waitUntil("the handler started") { seen.lease != nil }
                // As if the lease had expired and the rescuer and another worker had taken the job: in one
                // transaction, else a heartbeat between the two can cancel the handler and the worker claim
                // the job back first (it did once in CI, on a loaded machine).
                let lease = try #require(seen.lease)
                let thief = try await ledger.store.transaction { tx in
                    #expect(try await tx.release([lease]) == [job.id])
                    return try #require(try await tx.claimJobs(worker: "thief").first)
                }
                try await waitUntil("the handler was cancelled") { seen.wasCancelled }
                worker.stop()
                try await group.waitForAll()
                let held = try #require(try await ledger.store.job(job.id))
                #expect(held.state == .running && held.workerID == "thief" && held.lastError == nil)
                try await ledger.store.complete(thief.lease)
            }
        }
    }
}

/// How many times each handler ran, from racing tasks.
/// A store whose every scope answers up to 20 ms after it committed: a loaded machine's late resumes,
/// which open the windows between one step of a worker and the next.
final class LateAnswers: LedgerStore {
    let store: any LedgerStore
    init(_ store: any LedgerStore) { self.store = store }
    var backend: LedgerBackend { store.backend }
    var location: LedgerLocation { store.location }
    var options: LedgerOptions { store.options }

    private func late<T>(_ value: T) async -> T {
        try? await Task.sleep(for: .milliseconds(Int.random(in: 0...20)))
        return value
    }

    func transaction<T: Sendable>(_ body: (LedgerTransaction) async throws -> T) async throws -> T {
        await late(try await store.transaction(body))
    }

    func autocommit<T: Sendable>(_ body: (LedgerTransaction) async throws -> T) async throws -> T {
        await late(try await store.autocommit(body))
    }

    func read<T: Sendable>(_ body: (LedgerTransaction) async throws -> T) async throws -> T {
        await late(try await store.read(body))
    }

    func close() async throws { try await store.close() }
}

final class Tally: Sendable {
    private let values = Mutex<[String: Int]>([:])
    func add(_ key: String) { values.withLock { $0[key, default: 0] += 1 } }
    var counts: [String: Int] { values.withLock { $0 } }
}

/// Suspends handlers until opened.
final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { s -> Bool in
                if s.open { return true }
                s.waiters.append(continuation)
                return false
            }
            if ready { continuation.resume() }
        }
    }

    func open() {
        for waiter in state.withLock({ s -> [CheckedContinuation<Void, Never>] in
            s.open = true
            defer { s.waiters = [] }
            return s.waiters
        }) { waiter.resume() }
    }
}

final class LeaseBox: Sendable {
    private let state = Mutex<(lease: JobLease?, cancelled: Bool)>((nil, false))
    func set(_ lease: JobLease) { state.withLock { $0.lease = lease } }
    func cancelled() { state.withLock { $0.cancelled = true } }
    var lease: JobLease? { state.withLock { $0.lease } }
    var wasCancelled: Bool { state.withLock { $0.cancelled } }
}
