import ClipKitCore
import Foundation
import Testing

@testable import ClipKitLedger

/// The job queue's conformance suite: every test runs on SQLite and on a real PostgreSQL.
@Suite("Job queue") struct JobQueueTests {
    @Test("a job round-trips with its payload, key, run-at and attempts", arguments: LedgerBackend.allCases)
    func roundTrip(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(backend) { ledger in
            let payload: JSONValue = .object([
                "provider": .string("wavespeed"), "task": .string("abc/123"), "amount": .number(Decimal(string: "10.23")!),
                "nested": .array([.bool(true), .null, .number(7)]),
            ])
            let runAt = ledger.clock.now.adding(.seconds(90))
            let enqueued = try await ledger.store.enqueue(
                NewJob(kind: "poll", payload: payload, uniqueKey: "poll:wavespeed:abc/123", runAt: runAt, maxAttempts: 7))
            #expect(enqueued.created)
            let job = try #require(try await ledger.store.job(enqueued.job.id))
            #expect(job == enqueued.job)
            #expect(job.kind == "poll")
            #expect(job.payload == payload)
            #expect(job.uniqueKey == "poll:wavespeed:abc/123")
            #expect(job.state == .queued)
            #expect(job.attempts == 0)
            #expect(job.maxAttempts == 7)
            #expect(job.runAt == runAt)
            #expect(job.createdAt == ledger.clock.now)

            struct Poll: Codable, Equatable { var provider: String; var task: String }
            #expect(try job.payload(as: Poll.self) == Poll(provider: "wavespeed", task: "abc/123"))
            let typed = try await ledger.store.enqueue(NewJob(kind: "poll", encoding: Poll(provider: "dashscope", task: "t1")))
            #expect(try typed.job.payload(as: Poll.self) == Poll(provider: "dashscope", task: "t1"))
        }
    }

    @Test("a job is not claimed before its run-at time, nor by workers of other kinds", arguments: LedgerBackend.allCases)
    func runAtAndKinds(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(backend) { ledger in
            let later = try await ledger.store.enqueue(NewJob(kind: "download", runAt: ledger.clock.now.adding(.seconds(60))))
            let probe = try await ledger.store.enqueue(NewJob(kind: "probe"))
            #expect(try await ledger.store.claimJobs(worker: "w", kinds: ["download"]).isEmpty)
            #expect(try await ledger.store.claimJobs(worker: "w", kinds: []).isEmpty)
            let claimed = try await ledger.store.claimJobs(worker: "w", kinds: ["probe", "audit"], limit: 5)
            #expect(claimed.map(\.job.id) == [probe.job.id])
            ledger.clock.advance(by: .seconds(60))
            let now = try await ledger.store.claimJobs(worker: "w", limit: 5)
            #expect(now.map(\.job.id) == [later.job.id])
            #expect(now.first?.job.state == .running)
            #expect(now.first?.job.workerID == "w")
            #expect(now.first?.lease.attempt == 1)
            #expect(now.first?.job.leaseExpiresAt == ledger.clock.now.adding(.seconds(30)))
        }
    }

    @Test("enqueueing the same unique key from racing tasks and stores makes one job", arguments: LedgerBackend.allCases)
    func uniqueKeysUnderRace(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(backend) { ledger in
            let stores = [ledger.store, try await ledger.openAnother(), try await ledger.openAnother()]
            let results = try await race(24) { index in
                try await stores[index % stores.count].enqueue(
                    NewJob(kind: "download", payload: .object(["attempt": .number(Decimal(index))]), uniqueKey: "download:t-1"))
            }
            #expect(results.filter(\.created).count == 1)
            #expect(Set(results.map(\.job.id)).count == 1)
            // Every caller got the winner's payload, not its own.
            #expect(Set(results.map(\.job.payload)).count == 1)
            #expect(try await ledger.store.jobs().count == 1)
            // Once the job has run, the key still holds: a redelivered webhook makes no second job.
            let claimed = try #require(try await ledger.store.claimJobs(worker: "w").first)
            try await ledger.store.complete(claimed.lease)
            let again = try await ledger.store.enqueue(NewJob(kind: "download", uniqueKey: "download:t-1"))
            #expect(!again.created)
            #expect(again.job.state == .succeeded)
            for store in stores.dropFirst() { try await store.close() }
        }
    }

    @Test("many jobs in one enqueue: each key made once, a taken key returns its job, unkeyed ones all made",
          arguments: LedgerBackend.allCases)
    func batchEnqueue(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(backend) { ledger in
            let earlier = try await ledger.store.enqueue(NewJob(kind: "poll", uniqueKey: "poll:t-0"))
            let later = ledger.clock.now.adding(.seconds(60))
            let batch = [
                NewJob(kind: "poll", payload: .object(["n": .number(1)]), uniqueKey: "poll:t-0"),
                NewJob(kind: "poll", payload: .object(["n": .number(2)]), uniqueKey: "poll:t-1", runAt: later, maxAttempts: 3),
                NewJob(kind: "audit"),
                NewJob(kind: "poll", payload: .object(["n": .number(4)]), uniqueKey: "poll:t-1"),
                NewJob(kind: "audit", payload: .object(["n": .number(5)])),
            ]
            let answers = try await ledger.store.transaction { try await $0.enqueue(batch) }
            #expect(answers.map(\.created) == [false, true, true, false, true])
            #expect(answers[0].job == earlier.job)
            #expect(answers[1].job == answers[3].job)
            #expect(answers[1].job.payload == .object(["n": .number(2)]) && answers[1].job.runAt == later && answers[1].job.maxAttempts == 3)
            #expect(answers[2].job.payload == .object([:]) && answers[4].job.payload == .object(["n": .number(5)]))
            #expect(answers[2].job.id < answers[4].job.id)
            let stored = try await ledger.store.jobs(limit: 100)
            #expect(stored.count == 4)
            for answer in answers { #expect(try await ledger.store.job(answer.job.id) == answer.job) }
            // A bad job refuses the whole batch.
            await #expect(throws: LedgerError.self) {
                try await ledger.store.transaction { try await $0.enqueue([NewJob(kind: "poll"), NewJob(kind: "")]) }
            }
            #expect(try await ledger.store.jobs(limit: 100).count == 4)
        }
    }

    @Test("racing claimers in several stores never get the same job", arguments: LedgerBackend.allCases)
    func concurrentClaimers(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(backend) { ledger in
            let jobCount = 240
            try await ledger.store.transaction { tx in
                for index in 0..<jobCount { _ = try await tx.enqueue(NewJob(kind: "noop", payload: .number(Decimal(index)))) }
            }
            let stores = [ledger.store, try await ledger.openAnother(), try await ledger.openAnother()]
            let claims = try await race(9) { worker in
                var mine: [JobID] = []
                while true {
                    let batch = try await stores[worker % stores.count].claimJobs(
                        worker: "worker-\(worker)", limit: 1 + worker % 4)
                    if batch.isEmpty { return mine }
                    for claimed in batch {
                        mine.append(claimed.job.id)
                        try await stores[worker % stores.count].complete(claimed.lease)
                    }
                }
            }
            let all = claims.flatMap { $0 }
            #expect(all.count == jobCount)
            #expect(Set(all).count == jobCount)
            #expect(claims.filter { !$0.isEmpty }.count > 1)
            let counts = try await ledger.store.jobCounts()
            #expect(counts == [JobCount(kind: "noop", state: .succeeded, count: jobCount)])
            for store in stores.dropFirst() { try await store.close() }
        }
    }

    @Test("an expired lease is rescued and the job runs again; on its last attempt it is dead", arguments: LedgerBackend.allCases)
    func leaseExpiryAndRescue(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(backend) { ledger in
            let store = ledger.store
            let job = try await store.enqueue(NewJob(kind: "concat", maxAttempts: 2)).job
            let first = try #require(try await store.claimJobs(worker: "a", lease: .seconds(30)).first)
            ledger.clock.advance(by: .seconds(29))
            #expect(try await store.rescueExpiredLeases() == RescueReport(requeued: [], dead: [], skipped: false))
            ledger.clock.advance(by: .seconds(2))
            #expect(try await store.rescueExpiredLeases() == RescueReport(requeued: [job.id], dead: [], skipped: false))
            let rescued = try #require(try await store.job(job.id))
            #expect(rescued.state == .queued)
            #expect(rescued.attempts == 1)
            #expect(rescued.lastError?.contains("lease of a expired") == true)

            let second = try #require(try await store.claimJobs(worker: "b").first)
            #expect(second.lease.attempt == 2)
            #expect(second.lease.token != first.lease.token)
            // The first worker wakes up: its lease is gone, its report is refused.
            await #expect(throws: LedgerError.leaseLost) { try await store.complete(first.lease) }
            ledger.clock.advance(by: .seconds(31))
            #expect(try await store.rescueExpiredLeases() == RescueReport(requeued: [], dead: [job.id], skipped: false))
            let dead = try #require(try await store.job(job.id))
            #expect(dead.state == .dead)
            #expect(dead.lastError?.contains("lease of b expired") == true)
            #expect(dead.finishedAt == ledger.clock.now)
        }
    }

    @Test("PostgreSQL: only one rescuer acts at a time across nodes")
    func oneRescuerAtATime() async throws {
        try await TestLedger.with(.postgres) { ledger in
            let other = try await ledger.openAnother()
            _ = try await ledger.store.enqueue(NewJob(kind: "probe"))
            _ = try await ledger.store.claimJobs(worker: "a", lease: .seconds(1))
            ledger.clock.advance(by: .seconds(2))
            let (inside, outside) = try await ledger.store.transaction { tx in
                let inside = try await tx.rescueExpiredLeases()
                // While this node's rescuer holds the lock, another node's pass does nothing.
                let outside = try await other.rescueExpiredLeases()
                return (inside, outside)
            }
            #expect(inside.requeued.count == 1)
            #expect(outside == RescueReport(requeued: [], dead: [], skipped: true))
            #expect(try await other.rescueExpiredLeases() == RescueReport(requeued: [], dead: [], skipped: false))
            try await other.close()
        }
    }

    @Test("failures back off exponentially with jitter, and the job is dead after N attempts", arguments: LedgerBackend.allCases)
    func backoffAndDead(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(backend) { ledger in
            let store = ledger.store
            let job = try await store.enqueue(NewJob(kind: "download", maxAttempts: 5)).job
            var delays: [Double] = []
            for attempt in 1...5 {
                let claimed = try #require(try await store.claimJobs(worker: "w").first, "attempt \(attempt)")
                #expect(claimed.lease.attempt == attempt)
                let outcome = try await store.fail(claimed.lease, error: "HTTP 503 from the CDN (attempt \(attempt))")
                let stored = try #require(try await store.job(job.id))
                #expect(stored.lastError == "HTTP 503 from the CDN (attempt \(attempt))")
                guard case .retrying(let at) = outcome else {
                    #expect(attempt == 5)
                    #expect(outcome == .dead)
                    #expect(stored.state == .dead)
                    break
                }
                #expect(stored.state == .queued)
                #expect(stored.runAt == at)
                let delay = at.timeIntervalSince(ledger.clock.now)
                let plain = pow(2, Double(attempt - 1))
                #expect(delay >= plain * 0.8 && delay <= plain * 1.2, "attempt \(attempt) waits \(delay) s")
                delays.append(delay)
                // Not claimable before its time.
                #expect(try await store.claimJobs(worker: "w").isEmpty)
                ledger.clock.set(at)
            }
            #expect(delays.count == 4)
            #expect(delays == delays.sorted() && Set(delays).count == 4)
            #expect(try await store.claimJobs(worker: "w").isEmpty)

            // A permanent failure is dead at once; a provider's Retry-After is honoured.
            _ = try await store.enqueue(NewJob(kind: "submit"))
            let permanent = try #require(try await store.claimJobs(worker: "w").first)
            #expect(try await store.fail(permanent.lease, error: "400 invalid prompt", retry: .never) == .dead)
            _ = try await store.enqueue(NewJob(kind: "poll"))
            let limited = try #require(try await store.claimJobs(worker: "w").first)
            let outcome = try await store.fail(limited.lease, error: "429", retry: .after(.seconds(42)))
            #expect(outcome == .retrying(at: ledger.clock.now.adding(.seconds(42))))
        }
    }

    @Test("the backoff ranges of successive attempts do not overlap")
    func backoffRanges() {
        let backoff = Backoff.standard
        for attempt in 1...11 {
            let highest = backoff.delay(afterAttempt: attempt, unit: 0.999_999)
            let nextLowest = backoff.delay(afterAttempt: attempt + 1, unit: 0)
            #expect(highest < nextLowest, "attempt \(attempt)")
        }
        #expect(backoff.delay(afterAttempt: 1, unit: 0.5) == .seconds(1))
        #expect(backoff.delay(afterAttempt: 100, unit: 0.5) == .seconds(3600))
    }

    @Test("a heartbeat extends the lease, and tells a worker whose lease was taken", arguments: LedgerBackend.allCases)
    func heartbeats(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(backend) { ledger in
            let store = ledger.store
            let jobs = try await store.transaction { tx in
                [try await tx.enqueue(NewJob(kind: "probe")).job, try await tx.enqueue(NewJob(kind: "probe")).job]
            }
            let claimed = try await store.claimJobs(worker: "a", limit: 2, lease: .seconds(10))
            #expect(claimed.map(\.job.id) == jobs.map(\.id))
            for _ in 0..<3 {
                ledger.clock.advance(by: .seconds(8))
                let beat = try await store.heartbeat(claimed.map(\.lease), lease: .seconds(10))
                #expect(beat.lost.isEmpty)
                #expect(beat.renewed.map(\.expiresAt) == [ledger.clock.now.adding(.seconds(10))] + [ledger.clock.now.adding(.seconds(10))])
                #expect(try await store.rescueExpiredLeases().requeued.isEmpty)
            }
            // 24 s after a 10 s claim, still held. Now the worker stalls past its lease.
            ledger.clock.advance(by: .seconds(11))
            #expect(try await store.rescueExpiredLeases().requeued == jobs.map(\.id))
            let thief = try #require(try await store.claimJobs(worker: "b", lease: .seconds(10)).first)
            #expect(thief.job.id == jobs[0].id)
            let beat = try await store.heartbeat(claimed.map(\.lease), lease: .seconds(10))
            #expect(beat.renewed.isEmpty)
            #expect(beat.lost == jobs.map(\.id))
            await #expect(throws: LedgerError.leaseLost) { try await store.fail(claimed[0].lease, error: "late") }
            #expect(try await store.release(claimed.map(\.lease)).isEmpty)
            let held = try #require(try await store.job(jobs[0].id))
            #expect(held.state == .running && held.workerID == "b")

            // A result reported in the same transaction as the completion is rolled back with it.
            await #expect(throws: LedgerError.leaseLost) {
                try await store.transaction { tx in
                    try await tx.insertClip(ClipRecord(id: "clip_late", path: "clips/late.mp4", sha256: "00", byteCount: 1, probe: .null))
                    try await tx.complete(claimed[0].lease)
                }
            }
            #expect(try await store.read { try await $0.clip("clip_late") } == nil)
            try await store.complete(thief.lease)
            #expect(try await store.job(jobs[0].id)?.state == .succeeded)
        }
    }

    @Test("a worker shutting down hands its jobs back without using an attempt", arguments: LedgerBackend.allCases)
    func handBack(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(backend) { ledger in
            let store = ledger.store
            let job = try await store.enqueue(NewJob(kind: "download", maxAttempts: 1)).job
            let claimed = try #require(try await store.claimJobs(worker: "a").first)
            ledger.clock.advance(by: .seconds(3))
            #expect(try await store.release([claimed.lease]) == [job.id])
            let back = try #require(try await store.job(job.id))
            #expect(back.state == .queued)
            #expect(back.attempts == 0)
            #expect(back.runAt == ledger.clock.now)
            let again = try #require(try await store.claimJobs(worker: "b").first)
            #expect(again.lease.attempt == 1)
            await #expect(throws: LedgerError.leaseLost) { try await store.complete(claimed.lease) }
            try await store.complete(again.lease)
        }
    }

    @Test("jobs list by state and kind, counts by state and kind, cancel, retry and prune", arguments: LedgerBackend.allCases)
    func listingAndCounts(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(backend) { ledger in
            let store = ledger.store
            let ids = try await store.transaction { tx in
                var ids: [JobID] = []
                for kind in ["download", "download", "probe", "audit", "audit", "audit"] {
                    ids.append(try await tx.enqueue(NewJob(kind: kind, maxAttempts: 1)).job.id)
                }
                return ids
            }
            #expect(try await store.cancelJob(ids[5]))
            let done = try await store.claimJobs(worker: "w", kinds: ["download"], limit: 2)
            try await store.complete(done[0].lease)
            try await store.fail(done[1].lease, error: "gone")
            _ = try await store.claimJobs(worker: "w", kinds: ["probe"])

            let counts = try await store.jobCounts()
            #expect(counts == [
                JobCount(kind: "audit", state: .cancelled, count: 1), JobCount(kind: "audit", state: .queued, count: 2),
                JobCount(kind: "download", state: .dead, count: 1), JobCount(kind: "download", state: .succeeded, count: 1),
                JobCount(kind: "probe", state: .running, count: 1),
            ])
            #expect(try await store.jobs(state: .queued).map(\.id) == [ids[4], ids[3]])
            #expect(try await store.jobs(kind: "download").map(\.id) == [ids[1], ids[0]])
            #expect(try await store.jobs(limit: 2, beforeID: ids[3]).map(\.id) == [ids[2], ids[1]])
            #expect(try await !store.cancelJob(ids[2]))

            #expect(try await store.retryDeadJob(ids[1]))
            let retried = try #require(try await store.job(ids[1]))
            #expect(retried.state == .queued && retried.attempts == 0 && retried.lastError == "gone")

            ledger.clock.advance(by: .seconds(10))
            #expect(try await store.pruneJobs(finishedBefore: ledger.clock.now) == 2)
            #expect(try await store.job(ids[0]) == nil)
            #expect(try await store.job(ids[5]) == nil)
            #expect(try await store.jobs().count == 4)
        }
    }

    @Test("a record and the job that follows from it commit together or not at all", arguments: LedgerBackend.allCases)
    func transactionalEnqueue(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(backend) { ledger in
            struct Refused: Error {}
            let store = ledger.store
            await #expect(throws: Refused.self) {
                try await store.transaction { tx in
                    try await tx.insertClip(ClipRecord(id: "clip_a", path: "clips/a.mp4", sha256: "aa", byteCount: 5, probe: .null))
                    _ = try await tx.enqueue(NewJob(kind: "frames", uniqueKey: "frames:clip_a"))
                    throw Refused()
                }
            }
            #expect(try await store.jobs().isEmpty)
            #expect(try await store.read { try await $0.clip("clip_a") } == nil)
            try await store.transaction { tx in
                try await tx.insertClip(ClipRecord(id: "clip_a", path: "clips/a.mp4", sha256: "aa", byteCount: 5, probe: .null))
                _ = try await tx.enqueue(NewJob(kind: "frames", uniqueKey: "frames:clip_a"))
            }
            #expect(try await store.jobs().map(\.uniqueKey) == ["frames:clip_a"])
        }
    }

    @Test("a scope whose task is cancelled still ends: a finished body commits, a failed one rolls back, the next scope runs",
          arguments: LedgerBackend.allCases)
    func cancelledScopes(_ backend: LedgerBackend) async throws {
        // One reader connection, so the read after the cancelled one reuses its connection.
        try await TestLedger.with(backend, connections: 1) { ledger in
            struct Refused: Error {}
            let store = ledger.store
            // Each scope cancels its own task part way, as stopping a worker mid-claim does.
            try await Task {
                try await store.transaction { tx in
                    _ = try await tx.enqueue(NewJob(kind: "frames", uniqueKey: "committed"))
                    withUnsafeCurrentTask { $0?.cancel() }
                }
            }.value
            await #expect(throws: Refused.self) {
                try await Task {
                    try await store.transaction { tx in
                        _ = try await tx.enqueue(NewJob(kind: "frames", uniqueKey: "rolled back"))
                        withUnsafeCurrentTask { $0?.cancel() }
                        throw Refused()
                    }
                }.value
            }
            _ = try? await Task {
                try await store.read { tx in
                    _ = try await tx.jobs()
                    withUnsafeCurrentTask { $0?.cancel() }
                    return try await tx.jobs()
                }
            }.value
            try await store.transaction { tx in _ = try await tx.enqueue(NewJob(kind: "frames", uniqueKey: "next")) }
            #expect(try await store.jobs().compactMap(\.uniqueKey).sorted() == ["committed", "next"])
        }
    }
}
