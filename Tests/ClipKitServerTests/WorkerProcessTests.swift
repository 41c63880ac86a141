import ClipKitAudit
import ClipKitLedger
import ClipKitPostgresHarness
import ClipKitSandbox
import ClipKitTestSupport
import Foundation
import Testing

/// `clipkit worker` processes beside one API node (`clipkit serve --workers 0`) on one PostgreSQL ledger,
/// killed at random while they work: what a machine dying in a multi-machine set-up does.
@Suite("worker processes")
struct WorkerProcessTests {
    static let requests = 60

    @Test("three workers SIGKILLed at random through 60 generations with faults: one submission per request, each a verified clip or the provider's failure, no job stuck, the budget kept")
    func killedWorkers() async throws {
        // 429s, cut downloads, failed tasks and queues that take a while: time to kill workers mid-step.
        let faults = SandboxFaults(seed: 7, queueMs: 400, runMs: 800, rate429: 0.1, retryAfterSeconds: 0, failRate: 0.05,
                                   cutAfterBytes: 150_000, cutTimes: 1)
        let sandbox = try await SandboxServer.start(SandboxConfiguration(port: 0, faults: faults))
        let data = NSTemporaryDirectory() + "clipkit-workers-" + UUID().uuidString.prefix(8)
        let stray = NSTemporaryDirectory() + "clipkit-stray-" + UUID().uuidString.prefix(8)
        let database = try await PostgresCluster.shared().createDatabase()
        let ledger = try await Ledger.open(database)
        do {
            try await Self.run(sandbox: sandbox, data: data, stray: stray, database: database, ledger: ledger)
        } catch {
            try? await ledger.close()
            await sandbox.stop()
            for path in [data, stray] { try? FileManager.default.removeItem(atPath: path) }
            throw error
        }
        try await ledger.close()
        await sandbox.stop()
        for path in [data, stray] { try? FileManager.default.removeItem(atPath: path) }
    }

    static func run(sandbox: SandboxServer, data: String, stray: String, database: String, ledger: any LedgerStore) async throws {
        let engine = builtBinary("clipkit-engine")
        let arguments = ["--data", data, "--database", database]
        // Room for 55 of the 60 estimates: the last ones are refused, whichever worker would submit them.
        let price = PriceBook.builtIn.rule(provider: "dashscope", model: "wan2.2-t2v-plus", tier: .p480)!.charge(seconds: 5)!
        let limit = Money(price.amount * 55, price.currency)
        try await ledger.transaction { _ = try await $0.setBudget("account", limit: limit) }

        // A worker refuses a directory the API nodes have not marked for this ledger: unmarked, or a stray one.
        try FileManager.default.createDirectory(atPath: stray, withIntermediateDirectories: true)
        for directory in [data, stray] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let refused = try await offPool { try Tool.capture(engine, ["worker", "--data", directory, "--database", database, "--sandbox", sandbox.baseURL]) }
            #expect(refused.status == 2, "\(refused.stderr)")
            #expect(refused.stderr.contains("has no .clipkit-ledger marker"), "\(refused.stderr)")
        }

        let made = try await runProgram(engine, ["token", "create", "--name", "tests"] + arguments)
        let token = String(decoding: made.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let api = try await EngineProcess.serve(ledger: arguments + ["--workers", "0"], sandbox: sandbox.baseURL)
        var workers: [EngineProcess] = []
        for _ in 0..<3 { workers.append(try await EngineProcess.worker(ledger: arguments, sandbox: sandbox.baseURL, lease: 10)) }
        let marked = try String(contentsOfFile: data + "/.clipkit-ledger", encoding: .utf8)
        try FileManager.default.createDirectory(atPath: stray, withIntermediateDirectories: true)
        try Data(("ledger_another\n").utf8).write(to: URL(fileURLWithPath: stray + "/.clipkit-ledger"))
        let foreign = try await offPool { try Tool.capture(engine, ["worker", "--data", stray, "--database", database, "--sandbox", sandbox.baseURL]) }
        #expect(foreign.status == 2 && foreign.stderr.contains("belongs to ledger ledger_another"), "\(foreign.stderr)")

        var accepted: [String] = [], refused = 0
        for i in 0..<requests {
            let body = #"{"provider": "sandbox", "model": "wan2.2-t2v-plus", "prompt": "shot \#(i)", "resolution": "480P", "duration": 5}"#
            let answer = try await api.send(.POST, "/v1/tasks", token: token, headers: [("Idempotency-Key", "shot-\(i)")], json: body)
            if answer.status == 202, let id = answer.json["id"] as? String {
                accepted.append(id)
            } else {
                #expect(answer.status == 402, "\(answer.text)")
                refused += 1
            }
        }
        #expect(accepted.count >= 55 && accepted.count + refused == requests)

        // Every 3 s one worker, chosen at random, dies without warning and a new one starts.
        let started = Date()
        var kills = 0
        var tasks: [[String: Any]] = []
        while true {
            // Read before the tasks: when every job had ended, the tasks listed after it are as they stay.
            let idle = (try await ledger.jobCounts()).allSatisfy { $0.state.isFinal }
            let listed = try await api.send(.GET, "/v1/tasks?limit=1000", token: token)
            tasks = (listed.json["tasks"] as? [[String: Any]]) ?? []
            let final = tasks.filter { $0["clip"] is [String: Any] || $0["state"] as? String == "failed" }
            if final.count == accepted.count { break }
            // Stuck: out of time, or (the workers all killed) no job left to bring the rest to an end.
            guard Date().timeIntervalSince(started) < 1200, !(idle && kills == 12) else {
                let jobs = try await ledger.jobs(limit: 1000).filter { !$0.state.isFinal || $0.state == .dead }
                    .map { "\($0.kind) \($0.state) attempts \($0.attempts) \($0.lastError ?? "")" }
                let seconds = Int(Date().timeIntervalSince(started))
                Issue.record("not final after \(seconds) s: \(accepted.count - final.count) tasks; jobs:\n\(jobs.joined(separator: "\n"))")
                break
            }
            try await Task.sleep(for: .seconds(kills < 12 ? 3 : 1))
            if kills < 12 {
                let victim = Int.random(in: 0..<workers.count)
                try await workers[victim].kill()
                workers[victim] = try await EngineProcess.worker(ledger: arguments, sandbox: sandbox.baseURL, lease: 10)
                kills += 1
            }
        }
        let seconds = Date().timeIntervalSince(started)

        let succeeded = tasks.filter { $0["clip"] is [String: Any] }
        let failed = tasks.filter { $0["state"] as? String == "failed" }
        let causes = failed.map { (($0["error"] as? [String: Any])?["code"] as? String) ?? "?" }
        print("workers: \(accepted.count) requests (\(refused) refused by the budget), \(succeeded.count) clips, "
            + "\(failed.count) failed \(causes), \(kills) workers killed, \(Int(seconds)) s")
        #expect(kills == 12)
        #expect(Set(tasks.compactMap { $0["id"] as? String }) == Set(accepted))
        #expect(succeeded.count + failed.count == accepted.count && succeeded.count >= accepted.count - 10)
        for task in succeeded {
            let clip = task["clip"] as? [String: Any]
            #expect((clip?["verification"] as? [String: Any])?["passed"] as? Bool == true, "\(task)")
        }
        for task in failed { #expect(task["error"] is [String: Any] && task["clip"] == nil, "\(task)") }
        // A submission the provider kept refusing (429) fails its task without creating one.
        let submitted = tasks.filter { $0["providerTaskID"] is String }
        #expect(submitted.count >= accepted.count - 3, "\(causes)")
        #expect(await sandbox.stats().created(.dashscope) == submitted.count, "one submission per request, however many workers died")
        let clips = try FileManager.default.contentsOfDirectory(atPath: data + "/clips").filter { $0.hasSuffix(".mp4") }
        #expect(clips.count == succeeded.count, "one clip per verified task, none lost or doubled")
        let counts = try await ledger.jobCounts()
        #expect(counts.allSatisfy { $0.state.isFinal }, "no job left running or queued: \(counts)")
        let dead = try await ledger.jobs(state: .dead, limit: 100).map { "\($0.kind): \($0.lastError ?? "")" }
        #expect(dead.isEmpty, "no job gave up: \(dead.joined(separator: "\n"))")

        // The budget: never past its limit, nothing left reserved, spent what the verified clips were billed.
        let budget = try #require(try await ledger.read { try await $0.budget("account") })
        #expect((budget.spent + budget.reserved).amount <= budget.limit.amount)
        #expect(budget.reserved.amount == 0)
        #expect(budget.spent == Money(price.amount * Decimal(succeeded.count), price.currency))
        let shown = try await api.send(.GET, "/v1/budgets", token: token)
        let account = (shown.json["budgets"] as? [[String: Any]])?.first { $0["name"] as? String == "account" }
        #expect((account?["spent"] as? [String: Any])?["amount"] as? String == budget.spent.amountText, "\(shown.text)")
        #expect((account?["left"] as? [String: Any])?["amount"] as? String == budget.left.amountText, "\(shown.text)")
        #expect(marked.hasPrefix("ledger_"))

        // The audit over the ledger (CLI and API alike) bills what the budget spent and disputes nothing.
        let audited = try await offPool { try Tool.capture(engine, ["audit", "--format", "json"] + arguments) }
        #expect(audited.status == 0, "\(audited.stderr)")
        let report = (try? JSONSerialization.jsonObject(with: audited.stdout)) as? [String: Any] ?? [:]
        let summary = report["summary"] as? [String: Any]
        #expect(summary?["tasks"] as? Int == accepted.count, "\(audited.text.prefix(2000))")
        let billed = ((summary?["totals"] as? [[String: Any]])?.first?["billed"] as? [String: Any])?["amount"] as? String
        #expect(billed == budget.spent.amountText, "\(audited.text.prefix(2000))")
        #expect((report["findings"] as? [Any])?.isEmpty == true, "\(audited.text.prefix(4000))")
        let served = try await api.send(.GET, "/v1/audit", token: token)
        #expect(served.status == 200)
        #expect((served.json["summary"] as? [String: Any])?["tasks"] as? Int == accepted.count)
        #expect((served.json["findings"] as? [Any])?.isEmpty == true, "\(served.text.prefix(4000))")
        let csv = try await api.send(.GET, "/v1/audit?format=csv&provider=wavespeed", token: token)
        #expect(csv.status == 200 && csv.text.hasPrefix("severity,code,task_id"), "\(csv.text)")
        let none = try await api.send(.GET, "/v1/audit?provider=wavespeed", token: token)
        #expect((none.json["summary"] as? [String: Any])?["tasks"] as? Int == 0, "no WaveSpeed tasks in this ledger")

        // A console bill reconciled against the ledger: one right line, the same task charged twice, a task
        // the provider failed charged anyway, and a task nobody asked for. Recorded once however often posted.
        let right = try #require(succeeded.first?["providerTaskID"] as? String)
        // (The sandbox's faults are seeded, but which request meets a failure depends on timing: if none
        // failed, that line is left out.)
        let failedID = failed.first?["providerTaskID"] as? String
        let line = { (id: String) in "\(id),wan2.2-t2v-plus,480P,5,\(price.amountText),CNY,cn-beijing,2026-12-02 10:00:00" }
        let bill = (["Task ID,Model,Resolution,Billed Seconds,Amount,Currency,Region,Billing Time", line(right), line(right)]
            + (failedID.map { [line($0)] } ?? []) + [line("0f0f0f0f-dead-beef-0000-000000000000")]).joined(separator: "\n") + "\n"
        let disputed: Set<String> = failedID == nil ? ["duplicateBilling", "clipMissing"] : ["duplicateBilling", "failedButBilled", "clipMissing"]
        var batch = ""
        for round in 0..<2 {
            let reconciled = try await api.send(.POST, "/v1/bills", token: token, headers: [("Content-Type", "text/csv")], json: nil, body: bill)
            #expect(reconciled.status == 200, "\(reconciled.text)")
            let findings = (reconciled.json["findings"] as? [[String: Any]]) ?? []
            let codes = Set(findings.compactMap { $0["code"] as? String })
            #expect(codes == disputed, "\(reconciled.text.prefix(4000))")
            let overBilled = findings.compactMap { (($0["overBilled"] as? [String: Any])?["amount"] as? String).flatMap { Decimal(string: $0) } }
            #expect(overBilled.reduce(0, +) == price.amount * Decimal(disputed.count), "each wrong charge disputed in full: \(reconciled.text.prefix(4000))")
            batch = reconciled.headers["ClipKit-Findings-Batch"].first ?? ""
            let stored = try await ledger.read { try await $0.findings(batch: batch) }
            #expect(stored.count == findings.count, "round \(round): the bill's findings are recorded once")
        }
        #expect(batch.hasPrefix("bill:"))

        // GET /metrics shows the ledger's money and clips, from any node.
        let scraped = try await api.send(.GET, "/metrics", token: token)
        func gauge(_ name: String) -> Double? {
            scraped.text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ").last!) }
        }
        let cny = { (money: Decimal) in NSDecimalNumber(decimal: money).doubleValue }
        #expect(gauge(#"clipkit_billed_amount{currency="CNY"}"#).map { abs($0 - cny(budget.spent.amount)) < 0.001 } == true, "\(scraped.text)")
        #expect(gauge(#"clipkit_disputed_amount{currency="CNY"}"#).map { abs($0 - cny(price.amount * Decimal(disputed.count))) < 0.001 } == true,
                "\(scraped.text)")
        #expect(gauge("clipkit_clips") == Double(succeeded.count), "\(scraped.text)")
        #expect(gauge(#"clipkit_jobs{kind="task.submit",state="running"}"#) == 0, "\(scraped.text)")

        for worker in workers { #expect(try await worker.terminate() == 0, "SIGTERM stops a worker gracefully: \(worker.stderr)") }
        #expect(try await api.terminate() == 0)
        #expect(!api.stderr.contains(token) && !workers.contains { $0.stderr.contains(token) })
    }
}
