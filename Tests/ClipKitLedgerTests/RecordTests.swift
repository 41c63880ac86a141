import ClipKitAudit
import ClipKitCore
import Foundation
import Synchronization
import Testing

@testable import ClipKitLedger

/// Every record type written and read back, on SQLite and on a real PostgreSQL.
@Suite("Ledger records") struct RecordTests {
    static let probe: JSONValue = .object([
        "path": .string("clip.mp4"), "fileSize": .number(323_292), "duration": .number(5), "tier": .string("480P"),
        "video": .object(["codec": .string("h264"), "frameRate": .string("30/1"), "frameCount": .number(150)]),
        "audio": .null, "error": .null,
    ])

    @Test("a clip round-trips with its probe, verification and frames", arguments: LedgerBackend.allCases)
    func clips(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(backend) { ledger in
            let clip = ClipRecord(
                path: "clips/a.mp4", sha256: String(repeating: "ab", count: 32), byteCount: 323_292,
                sourceURL: "https://cdn.example/a.mp4", probe: Self.probe)
            let stored = try await ledger.store.transaction { try await $0.insertClip(clip) }
            #expect(stored.createdAt == ledger.clock.now)
            #expect(stored.id.hasPrefix("clip_") && stored.id.count == 31)
            var updated = stored
            updated.verification = .object(["passed": .bool(true), "failures": .array([])])
            updated.frames = ["first": "frames/a/first.png", "last": "frames/a/last.png", "149": "frames/a/149.png"]
            try await ledger.store.transaction { try await $0.updateClip(updated) }
            let read = try await ledger.store.read { tx in
                (try await tx.clip(stored.id), try await tx.clips(sha256: clip.sha256), try await tx.clips())
            }
            #expect(read.0 == updated)
            #expect(read.1 == [updated])
            #expect(read.2 == [updated])
            await #expect(throws: LedgerError.conflict) { try await ledger.store.transaction { try await $0.insertClip(clip) } }
            await #expect(throws: LedgerError.notFound) {
                var missing = updated
                missing.id = "clip_missing"
                try await ledger.store.transaction { try await $0.updateClip(missing) }
            }
        }
    }

    @Test("a provider task keeps its request without secrets, its status history, usage and bill", arguments: LedgerBackend.allCases)
    func providerTasks(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(backend) { ledger in
            let store = ledger.store
            let request: JSONValue = .object([
                "model": .string("wan2.2-i2v-plus"), "api_key": .string("sk-SECRET"),
                "input": .object(["prompt": .string("a fox"), "img_url": .string("data:image/png;base64,AAAA")]),
            ])
            let new = ProviderTaskRecord(
                requestKey: "chain:c1:0#1", provider: "dashscope", model: "wan2.2-i2v-plus",
                endpoint: "https://dashscope-intl.aliyuncs.com", request: request, chainID: "c1", segment: 0)
            let (task, created) = try await store.transaction { try await $0.insertTask(new) }
            #expect(created)
            #expect(task.state == "submitting")
            #expect(task.request?["api_key"] == nil)
            #expect(task.request?["input"]?["img_url"] == .string("data:image/png;base64,<4 bytes>"))

            // A rerun of the same request finds the task instead of making a second one.
            let (again, createdAgain) = try await store.transaction { try await $0.insertTask(new) }
            #expect(!createdAgain)
            #expect(again.id == task.id)

            let clip = try await store.transaction {
                try await $0.insertClip(ClipRecord(path: "clips/t.mp4", sha256: "cd", byteCount: 9, probe: Self.probe))
            }
            var submitted = task
            submitted.providerTaskID = "0385dc79-5ff8-4d82-bcb6-5ae9e4d53fdc"
            try await store.transaction { tx in
                try await tx.updateTask(submitted)
                try await tx.recordStatus(TaskStatusChange(status: "PENDING", state: "queued", at: ledger.clock.now), taskID: task.id)
            }
            ledger.clock.advance(by: .seconds(5))
            try await store.transaction { tx in
                try await tx.recordStatus(TaskStatusChange(status: "RUNNING", state: "running", at: ledger.clock.now), taskID: task.id)
                // Polled again with no change: not a new history entry.
                try await tx.recordStatus(TaskStatusChange(status: "RUNNING", state: "running", at: ledger.clock.now), taskID: task.id)
            }
            ledger.clock.advance(by: .seconds(40))
            var finished = try #require(try await store.read { try await $0.task(task.id) })
            finished.usage = .object(["video_duration": .number(5), "video_ratio": .string("832*480"), "video_count": .number(1)])
            finished.billed = Money(Decimal(string: "0.70")!, "cny")
            finished.outputURL = "https://dashscope-result.oss.example/out.mp4"
            finished.clipID = clip.id
            finished.contentFlagged = false
            try await store.transaction { tx in
                try await tx.updateTask(finished)
                try await tx.recordStatus(
                    TaskStatusChange(status: "SUCCEEDED", state: "succeeded", at: ledger.clock.now), taskID: task.id)
            }
            let read = try #require(try await store.read { try await $0.task(provider: "dashscope", providerTaskID: submitted.providerTaskID!) })
            #expect(read.statusHistory.map(\.status) == ["PENDING", "RUNNING", "SUCCEEDED"])
            #expect(read.statusHistory.map(\.state) == ["queued", "running", "succeeded"])
            #expect(read.statusHistory.map(\.at) == [task.createdAt, task.createdAt.adding(.seconds(5)), ledger.clock.now])
            #expect(read.status == "SUCCEEDED" && read.state == "succeeded")
            #expect(read.usage == finished.usage)
            #expect(read.billed == Money(Decimal(string: "0.70")!, "CNY"))
            #expect(read.clipID == clip.id && read.outputURL == finished.outputURL && read.contentFlagged == false)
            #expect(read.chainID == "c1" && read.segment == 0 && read.requestKey == "chain:c1:0#1")
            #expect(read.updatedAt == ledger.clock.now && read.createdAt == task.createdAt)
            #expect(try await store.read { try await $0.task(requestKey: "chain:c1:0#1") } == read)
            #expect(try await store.read { try await $0.tasks(state: "succeeded") } == [read])
            #expect(try await store.read { try await $0.tasks(state: "failed") }.isEmpty)

            // The audit reads it as it reads a task record file.
            let record = read.taskRecord(outputFile: "t.mp4")
            #expect(record.taskID == submitted.providerTaskID)
            #expect(record.statusHistory.map(\.status) == ["PENDING", "RUNNING", "SUCCEEDED"])
            #expect(record.usage == finished.usage)
            #expect(record.request?["api_key"] == nil)
        }
    }

    @Test("attempts at one request are numbered in order with their outcomes", arguments: LedgerBackend.allCases)
    func attempts(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(backend) { ledger in
            let store = ledger.store
            let estimate = Money(Decimal(string: "0.70")!, "CNY")
            let first = try await store.transaction { try await $0.startAttempt(request: "chain:c1:2", estimate: estimate) }
            try await store.transaction {
                try await $0.finishAttempt(first.id, outcome: .rejected, reason: "duration: expected 5 s, got 4.2 s")
            }
            let second = try await store.transaction { try await $0.startAttempt(request: "chain:c1:2", estimate: estimate) }
            try await store.transaction { try await $0.finishAttempt(second.id, outcome: .accepted) }
            let other = try await store.transaction { try await $0.startAttempt(request: "chain:c1:3") }
            let read = try await store.read { try await $0.attempts(request: "chain:c1:2") }
            #expect(read.map(\.number) == [1, 2])
            #expect(read.map(\.outcome) == [.rejected, .accepted])
            #expect(read[0].reason == "duration: expected 5 s, got 4.2 s")
            #expect(read.allSatisfy { $0.estimate == estimate })
            #expect(other.number == 1 && other.outcome == .pending && other.estimate == nil)
        }
    }

    /// A WaveSpeed task the provider has answered with `providerTaskID`.
    static func submittedTask(providerTaskID: String, in store: any LedgerStore) async throws -> ProviderTaskRecord {
        var task = try await store.transaction {
            try await $0.insertTask(ProviderTaskRecord(provider: "wavespeed", model: "alibaba/wan-2.2/i2v-480p"))
        }.task
        task.providerTaskID = providerTaskID
        try await store.transaction { [task] in try await $0.updateTask(task) }
        return task
    }

    @Test("webhook deliveries are kept once per webhook id, also for unknown tasks", arguments: LedgerBackend.allCases)
    func webhooks(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(backend) { ledger in
            let store = ledger.store
            let task = try await Self.submittedTask(providerTaskID: "ws-1", in: store)
            let body = #"{"id":"ws-1","status":"completed","outputs":["https://cdn.example/o.mp4"]}"#
            let deliveries = try await race(6) { _ in
                try await store.transaction {
                    try await $0.recordWebhook(provider: "wavespeed", webhookID: "msg_1", providerTaskID: "ws-1", body: body)
                }
            }
            #expect(deliveries.filter(\.isNew).count == 1)
            #expect(Set(deliveries.map(\.delivery)).count == 1)
            let delivery = deliveries[0].delivery
            #expect(delivery.taskID == task.id && delivery.body == body && delivery.processedAt == nil)
            let unknown = try await store.transaction {
                try await $0.recordWebhook(provider: "wavespeed", webhookID: "msg_2", providerTaskID: "ws-unknown", body: "{}")
            }
            #expect(unknown.isNew && unknown.delivery.taskID == nil)
            try await store.transaction { try await $0.markWebhookProcessed(delivery.id) }
            let read = try await store.read { tx in
                (try await tx.webhookDeliveries(provider: "wavespeed", providerTaskID: "ws-1"),
                 try await tx.unmatchedWebhookDeliveries())
            }
            #expect(read.0.map(\.processedAt) == [ledger.clock.now])
            #expect(read.1.map(\.webhookID) == ["msg_2"])
        }
    }

    @Test("a batch of deliveries: redeliveries, a repeat inside the batch, known and unknown tasks, one answer each",
          arguments: LedgerBackend.allCases)
    func webhookBatch(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(backend) { ledger in
            let store = ledger.store
            let task = try await Self.submittedTask(providerTaskID: "ws-1", in: store)
            let first = try await store.transaction {
                try await $0.recordWebhook(provider: "wavespeed", webhookID: "msg_0", providerTaskID: "ws-1", body: "{}")
            }
            func arrival(_ provider: String, _ webhookID: String, _ providerTaskID: String?) -> ArrivedWebhook {
                ArrivedWebhook(provider: provider, webhookID: webhookID, providerTaskID: providerTaskID, body: #"{"n":"\#(webhookID)"}"#)
            }
            let batch = [
                arrival("wavespeed", "msg_0", "ws-1"), arrival("wavespeed", "msg_1", "ws-1"), arrival("wavespeed", "msg_1", "ws-1"),
                arrival("wavespeed", "msg_2", "ws-unknown"), arrival("wavespeed", "msg_3", nil), arrival("dashscope", "msg_1", "ws-1"),
            ]
            let recorded = try await store.transaction { try await $0.recordWebhooks(batch) }
            #expect(recorded.map(\.isNew) == [false, true, false, true, true, true])
            #expect(recorded[0].delivery == first.delivery)
            #expect(recorded[1].delivery == recorded[2].delivery)
            #expect(Set(recorded.map(\.delivery.id)).count == 5)
            #expect(recorded.map(\.delivery.webhookID) == batch.map(\.webhookID))
            #expect(recorded.map(\.delivery.provider) == batch.map(\.provider))
            #expect(recorded.map(\.delivery.taskID) == [task.id, task.id, task.id, nil, nil, nil])
            #expect(recorded[1].delivery.body == #"{"n":"msg_1"}"# && recorded[1].delivery.receivedAt == ledger.clock.now)
            let unmatched = try await store.read { try await $0.unmatchedWebhookDeliveries() }
            #expect(Set(unmatched.map(\.webhookID)) == ["msg_2", "msg_3", "msg_1"])
            #expect(try await store.read { try await $0.recentWebhookDeliveries() }.count == 5)
            #expect(try await store.transaction { try await $0.recordWebhooks([]) }.isEmpty)
        }
    }

    @Test("audit findings round-trip with their amounts", arguments: LedgerBackend.allCases)
    func findings(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(backend) { ledger in
            let findings = [
                Finding(
                    code: .durationShort, severity: .error, taskID: "t-1", provider: "dashscope", model: "wan2.2-t2v-plus",
                    clip: "clips/a.mp4", record: RecordLocation(file: "bill.csv", line: 7),
                    message: "t-1: billed 5 s, delivered 4.2 s", overBilled: Money(Decimal(string: "0.112")!, "CNY")),
                Finding(code: .unpriced, severity: .warning, taskID: "t-2", message: "no price", overBilled: nil),
                Finding(code: .tierMismatch, severity: .error, message: "tier", overBilled: .zero("USD")),
            ]
            try await ledger.store.transaction { try await $0.recordFindings(findings, batch: "audit-1") }
            try await ledger.store.transaction { try await $0.recordFindings([findings[1]], batch: "audit-2") }
            let read = try await ledger.store.read { try await $0.findings(batch: "audit-1") }
            #expect(read.map(\.finding) == findings)
            #expect(read.allSatisfy { $0.batch == "audit-1" && $0.createdAt == ledger.clock.now })
            #expect(try await ledger.store.read { try await $0.findings() }.count == 4)
        }
    }

    @Test("a chain round-trips with its segments", arguments: LedgerBackend.allCases)
    func chains(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(backend) { ledger in
            let store = ledger.store
            let storyboard: JSONValue = .object(["segments": .array([.object(["prompt": .string("a fox")]), .object(["prompt": .string("runs")])])])
            try await store.transaction { try await $0.setBudget("chain:c1", limit: Money(5, "CNY")) }
            let chain = try await store.transaction {
                try await $0.insertChain(ChainRecord(id: "c1", provider: "sandbox", storyboard: storyboard, budget: "chain:c1", segmentCount: 2))
            }
            let clip = try await store.transaction {
                try await $0.insertClip(ClipRecord(path: "clips/s0.mp4", sha256: "ef", byteCount: 10, probe: Self.probe))
            }
            ledger.clock.advance(by: .seconds(60))
            try await store.transaction { tx in
                try await tx.updateSegment(
                    ChainSegmentRecord(position: 0, state: "accepted", clipID: clip.id, lastFramePath: "frames/s0-last.png"), chainID: "c1")
                try await tx.updateChain("c1", state: "running")
            }
            ledger.clock.advance(by: .seconds(60))
            try await store.transaction { tx in
                try await tx.updateChain("c1", state: "joined", outputPath: "chains/c1/long.mp4", report: .object(["seams": .array([])]))
            }
            let read = try #require(try await store.read { try await $0.chain("c1") })
            #expect(read.storyboard == storyboard && read.budget == "chain:c1" && read.provider == "sandbox")
            #expect(read.state == "joined" && read.outputPath == "chains/c1/long.mp4" && read.report == .object(["seams": .array([])]))
            #expect(read.createdAt == chain.createdAt && read.updatedAt == ledger.clock.now)
            #expect(read.segments.map(\.position) == [0, 1])
            #expect(read.segments[0].state == "accepted" && read.segments[0].clipID == clip.id)
            #expect(read.segments[0].lastFramePath == "frames/s0-last.png")
            #expect(read.segments[0].updatedAt == chain.createdAt.adding(.seconds(60)))
            #expect(read.segments[1] == chain.segments[1])
            #expect(try await store.read { try await $0.chains() }.map(\.id) == ["c1"])
            await #expect(throws: LedgerError.notFound) {
                try await store.transaction { try await $0.updateSegment(ChainSegmentRecord(position: 5), chainID: "c1") }
            }
        }
    }

    @Test("an API token is shown once and stored only as its hash", arguments: LedgerBackend.allCases)
    func tokens(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(backend) { ledger in
            let store = ledger.store
            let (token, secret) = try await store.transaction { try await $0.createToken(name: "pipeline") }
            #expect(secret.hasPrefix("ck_") && secret.count == 46)
            #expect(try await store.authenticate(secret) == APIToken(
                id: token.id, name: "pipeline", createdAt: token.createdAt, revokedAt: nil, lastUsedAt: ledger.clock.now))
            // A use is noted at most once a minute; the requests between only read.
            let firstUse = ledger.clock.now
            ledger.clock.advance(by: .seconds(30))
            #expect(try await store.authenticate(secret)?.lastUsedAt == firstUse)
            ledger.clock.advance(by: .seconds(31))
            #expect(try await store.authenticate(secret)?.lastUsedAt == ledger.clock.now)
            #expect(try await store.read { try await $0.tokens() }.first?.lastUsedAt == ledger.clock.now)
            #expect(try await store.authenticate(secret + "x") == nil)
            await #expect(throws: LedgerError.conflict) { try await store.transaction { try await $0.createToken(name: "pipeline") } }
            // The secret appears nowhere in the table.
            let rows = try await store.read { try await $0.query("SELECT * FROM api_tokens") }
            for row in rows {
                for value in row.values.values { #expect(value != .text(secret)) }
            }
            let revokedAt = ledger.clock.now
            #expect(try await store.transaction { try await $0.revokeToken("pipeline") })
            #expect(try await store.authenticate(secret) == nil)
            #expect(try await !store.transaction { try await $0.revokeToken("pipeline") })
            // The name is free again once revoked.
            ledger.clock.advance(by: .seconds(1))
            _ = try await store.transaction { try await $0.createToken(name: "pipeline") }
            let all = try await store.read { try await $0.tokens() }
            #expect(all.map(\.name) == ["pipeline", "pipeline"])
            #expect(all[0].revokedAt == revokedAt && all[1].revokedAt == nil)
        }
    }

    @Test("an idempotency key creates once, replays the id, and refuses another request", arguments: LedgerBackend.allCases)
    func idempotencyKeys(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(backend) { ledger in
            let stores = [ledger.store, try await ledger.openAnother()]
            let body = Array(#"{"url":"https://cdn.example/a.mp4"}"#.utf8)
            let fingerprint = requestFingerprint(body)
            let creations = Creations()
            let results = try await race(8) { index in
                try await stores[index % 2].transaction { tx in
                    try await tx.idempotent(scope: "clips", key: "key-1", fingerprint: fingerprint) {
                        let clip = try await tx.insertClip(
                            ClipRecord(path: "clips/\(index).mp4", sha256: "aa", byteCount: 1, probe: .null))
                        creations.add()
                        return clip.id
                    }
                }
            }
            #expect(creations.count == 1)
            #expect(Set(results.map(\.resourceID)).count == 1)
            #expect(results.filter { !$0.replayed }.count == 1)
            #expect(try await ledger.store.read { try await $0.clips() }.count == 1)
            await #expect(throws: LedgerError.idempotencyKeyReused) {
                try await ledger.store.transaction { tx in
                    try await tx.idempotent(scope: "clips", key: "key-1", fingerprint: requestFingerprint(Array("{}".utf8))) {
                        Issue.record("created for a reused key")
                        return "clip_x"
                    }
                }
            }
            // The same key in another scope is another key.
            let task = try await ledger.store.transaction { tx in
                try await tx.idempotent(scope: "tasks", key: "key-1", fingerprint: fingerprint) { "task_1" }
            }
            #expect(task == IdempotentResult(resourceID: "task_1", replayed: false))
            #expect(try await ledger.store.read { try await $0.idempotentResource(scope: "clips", key: "key-1") } == results[0].resourceID)
            try await stores[1].close()
        }
    }

    @Test("amounts come back exactly as written, never through a float", arguments: LedgerBackend.allCases)
    func moneyIsExact(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(backend) { ledger in
            let store = ledger.store
            let texts = [
                "0.1", "0.2", "0.30", "0.70", "10.23", "-1.40", "0", "0.000001", "-0.0000000001", "5.115",
                "1234567890123456789.123456789", "99999999999999999999.99", "0.14285714285714285714", "100000000", "7E-8",
            ]
            for (index, text) in texts.enumerated() {
                let amount = try #require(Money.parseDecimal(text))
                var task = ProviderTaskRecord(provider: "dashscope", model: "m")
                task.billed = Money(amount, "CNY")
                task.id = "task_money_\(index)"
                _ = try await store.transaction { try await $0.insertTask(task) }
                let read = try #require(try await store.read { try await $0.task(task.id) })
                #expect(read.billed?.amount == amount, "\(text) came back as \(read.billed?.amount.description ?? "nil")")
                #expect(read.billed?.currency == "CNY")
            }
            // 0.1 + 0.2 is 0.3 in the ledger (it is 0.30000000000000004 in a double).
            try await store.transaction { try await $0.setBudget("account", limit: Money(Decimal(string: "0.3")!, "USD")) }
            _ = try await store.reserve(Money(Decimal(string: "0.1")!, "USD"), on: ["account"], reference: "a")
            _ = try await store.reserve(Money(Decimal(string: "0.2")!, "USD"), on: ["account"], reference: "b")
            let budget = try #require(try await store.read { try await $0.budget("account") })
            #expect(budget.reserved.amount == Decimal(string: "0.3")!)
            #expect(budget.left.amount == 0)
            await #expect(throws: LedgerError.budgetExceeded) {
                try await store.reserve(Money(Decimal(string: "0.000001")!, "USD"), on: ["account"], reference: "c")
            }
        }
    }

    @Test("racing reservers never take a budget past its limit", arguments: LedgerBackend.allCases)
    func budgetsUnderRace(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(backend) { ledger in
            let stores = [ledger.store, try await ledger.openAnother(), try await ledger.openAnother()]
            try await ledger.store.transaction { tx in
                try await tx.setBudget("account", limit: Money(Decimal(string: "10.00")!, "CNY"))
                try await tx.setBudget("chain:c1", limit: Money(Decimal(string: "100")!, "CNY"))
            }
            let price = Money(Decimal(string: "0.70")!, "CNY")
            let outcomes = try await race(40) { index -> Bool in
                do {
                    // The reservation and the submission's record commit together.
                    try await stores[index % 3].transaction { tx in
                        try await tx.reserve(price, on: ["chain:c1", "account"], reference: "request-\(index)")
                        _ = try await tx.insertTask(ProviderTaskRecord(requestKey: "request-\(index)", provider: "sandbox", model: "m"))
                    }
                    return true
                } catch LedgerError.budgetExceeded {
                    return false
                }
            }
            #expect(outcomes.filter { $0 }.count == 14)  // 14 × 0.70 = 9.80 ≤ 10.00 < 15 × 0.70
            let account = try #require(try await ledger.store.read { try await $0.budget("account") })
            #expect(account.reserved == Money(Decimal(string: "9.80")!, "CNY"))
            #expect(account.left == Money(Decimal(string: "0.20")!, "CNY"))
            let chain = try #require(try await ledger.store.read { try await $0.budget("chain:c1") })
            #expect(chain.reserved == account.reserved)
            // Refused reservations left no submission behind.
            #expect(try await ledger.store.read { try await $0.tasks() }.count == 14)

            // Bills: settle some above or below the estimate, release the unbilled.
            let granted = outcomes.indices.filter { outcomes[$0] }
            try await ledger.store.settle(reference: "request-\(granted[0])", spent: Money(Decimal(string: "0.56")!, "CNY"))
            try await ledger.store.settle(reference: "request-\(granted[1])", spent: Money(Decimal(string: "0.84")!, "CNY"))
            _ = try await ledger.store.transaction { try await $0.releaseReservations(reference: "request-\(granted[2])") }
            // Settling twice changes nothing; reserving a held reference again reserves nothing more.
            #expect(try await ledger.store.settle(reference: "request-\(granted[0])", spent: Money(1, "CNY")).isEmpty)
            #expect(try await ledger.store.reserve(price, on: ["account"], reference: "request-\(granted[3])").first?.state == .held)
            let after = try #require(try await ledger.store.read { try await $0.budget("account") })
            #expect(after.reserved == Money(Decimal(string: "7.70")!, "CNY"))
            #expect(after.spent == Money(Decimal(string: "1.40")!, "CNY"))
            #expect(after.left == Money(Decimal(string: "0.90")!, "CNY"))
            let reservations = try await ledger.store.read { try await $0.reservations(budget: "account") }
            #expect(reservations.count == 14)
            #expect(reservations.filter { $0.state == .settled }.compactMap(\.spent).reduce(Money.zero("CNY"), +) == Money(Decimal(string: "1.40")!, "CNY"))
            #expect(reservations.filter { $0.state == .released }.count == 1)
            await #expect(throws: LedgerError.currencyMismatch) {
                try await ledger.store.reserve(Money(1, "USD"), on: ["account"], reference: "usd")
            }
            await #expect(throws: LedgerError.notFound) {
                try await ledger.store.reserve(price, on: ["nope"], reference: "x")
            }
            let listed = try await ledger.store.budgets()
            #expect(listed.map(\.name) == ["account", "chain:c1"])
            for store in stores.dropFirst() { try await store.close() }
        }
    }
}

/// Counts calls from racing tasks.
final class Creations: Sendable {
    private let value = Mutex(0)
    func add() { value.withLock { $0 += 1 } }
    var count: Int { value.withLock { $0 } }
}
