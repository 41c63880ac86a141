import ClipKitAudit
import ClipKitCore
import ClipKitLedger
import ClipKitMedia
import ClipKitProviders
import ClipKitSandbox
import ClipKitSandboxTestSupport
import ClipKitService
import ClipKitTestSupport
import Foundation
import Testing

@Suite("Task service") struct TaskServiceTests {
    static let price = PriceBook.builtIn.rule(provider: "dashscope", model: "wan2.2-t2v-plus", tier: .p480)!.charge(seconds: 5)!

    @Test("a request runs to a verified clip with its frames and its exact bill, submitted once", arguments: LedgerBackend.allCases)
    func runsToVerifiedClip(_ backend: LedgerBackend) async throws {
        try await ServiceHarness.with(backend) { h in
            let accepted = try await h.service.submit(lighthouse())
            #expect(accepted.state == "submitting" && accepted.providerTaskID == nil && accepted.clip == nil)
            try await h.runAllJobs()

            let task = try #require(try await h.service.task(id: accepted.id))
            #expect(task.state == "succeeded" && task.providerTaskID != nil)
            #expect(task.statusHistory.map(\.state).last == "succeeded")
            #expect(task.statusHistory.first?.state == "queued")
            #expect(task.billed == Self.price)
            #expect(task.usage != nil && task.outputURL?.hasPrefix(h.session.sandbox.baseURL) == true)
            let clip = try #require(task.clip)
            #expect(clip.verification?["passed"] == .bool(true))
            let info = await MediaProbe.probe(h.data + "/" + clip.path)
            #expect(info.error == nil && info.tier == .p480)
            let size = try FileManager.default.attributesOfItem(atPath: h.data + "/" + clip.path)[.size] as? Int64
            #expect(clip.byteCount == size)
            for name in ["first", "last"] {
                let frame = try await RGBImage.load(h.data + "/" + (try #require(clip.frames[name])))
                #expect(frame.width == info.video?.width && frame.height == info.video?.height)
            }
            // The last frame is the clip's own last picture, exactly as the frame extractor reads it.
            let last = try await FrameExtractor.extract(.last, from: h.data + "/" + clip.path)
            #expect(try await RGBImage.load(h.data + "/" + clip.frames["last"]!).pixels == last.pixels)

            #expect(await h.created() == 1)
            #expect(try await h.clips().count == 1)
            let jobs = try await h.ledger.jobs(limit: 1000)
            #expect(jobs.allSatisfy { $0.state == .succeeded })
            #expect(Set(jobs.map(\.kind)) == [TaskService.Kind.submit, TaskService.Kind.poll, TaskService.Kind.download,
                                                TaskService.Kind.verify])
            #expect(try await h.service.tasks(status: "succeeded").map(\.id) == [task.id])
            #expect(try await h.service.tasks(status: "failed").isEmpty)
            // No key anywhere in what the service answers or stores.
            let answer = String(decoding: try JSONEncoder().encode(task), as: UTF8.self)
            #expect(!answer.contains(SandboxSession.apiKey))
            if backend == .sqlite {
                for file in ["ledger.sqlite", "ledger.sqlite-wal"] {
                    let bytes = (try? Data(contentsOf: URL(fileURLWithPath: h.session.path(file)))) ?? Data()
                    #expect(bytes.range(of: Data(SandboxSession.apiKey.utf8)) == nil, "\(file) holds the API key")
                }
            }
        }
    }

    @Test("the same idempotency key twice makes one task and one submission; with another request it is refused",
          arguments: LedgerBackend.allCases)
    func idempotencyKey(_ backend: LedgerBackend) async throws {
        try await ServiceHarness.with(backend) { h in
            let service = h.service
            let first = try await service.submit(lighthouse(), idempotencyKey: "req-1")
            let again = try await service.submit(lighthouse(), idempotencyKey: "req-1")
            #expect(again.id == first.id)
            await #expect(throws: LedgerError.idempotencyKeyReused) {
                try await service.submit(lighthouse("another prompt"), idempotencyKey: "req-1")
            }
            try await h.runAllJobs()
            #expect(try await h.service.task(id: first.id)?.clip != nil)
            #expect(try await h.service.tasks().count == 1)
            #expect(try await h.ledger.jobs(kind: TaskService.Kind.submit).count == 1)
            #expect(await h.created() == 1)
            #expect(try await h.service.submit(lighthouse(), idempotencyKey: "req-1").id == first.id)
        }
    }

    @Test("a worker that dies after the provider accepted: the rescued job finds the task by listing, never submits again",
          arguments: LedgerBackend.allCases)
    func crashAfterAccept(_ backend: LedgerBackend) async throws {
        try await ServiceHarness.with(backend, wrap: { HangsAfterFirstSubmit(base: $0) }) { h in
            let accepted = try await h.service.submit(lighthouse())
            let claimed = try #require(try await h.ledger.claimJobs(
                worker: "doomed", kinds: [TaskService.Kind.submit], limit: 1, lease: .milliseconds(300)).first)
            let handler = try #require(h.service.handlers()[TaskService.Kind.submit])
            let doomed = Task { try await handler(JobContext(job: claimed.job, lease: claimed.lease, store: h.ledger)) }
            try await waitUntil("the provider accepted the task") { await h.created() == 1 }
            doomed.cancel()  // the process dies: nothing after the provider's answer runs
            _ = await doomed.result
            #expect(try await h.service.task(id: accepted.id)?.providerTaskID == nil)

            try await Task.sleep(for: .milliseconds(400))
            let rescue = try await h.ledger.rescueExpiredLeases()
            #expect(rescue.requeued == [claimed.job.id])
            try await h.runAllJobs()

            let task = try #require(try await h.service.task(id: accepted.id))
            #expect(task.state == "succeeded" && task.clip != nil)
            #expect(await h.created() == 1)
            #expect(await h.session.sandbox.stats().submitRequests["dashscope"] == 1)
            #expect(try await h.clips().count == 1)
            let attempts = try await h.ledger.read { try await $0.attempts(request: accepted.id) }
            #expect(attempts.map(\.outcome) == [.accepted])
            #expect(try await h.ledger.job(claimed.job.id)?.attempts == 2)
        }
    }

    @Test("429s and cut downloads are retried with backoff: one task, one verified clip", arguments: LedgerBackend.allCases)
    func transientFaults(_ backend: LedgerBackend) async throws {
        var faults = SandboxFaults.fast
        (faults.rate429, faults.retryAfterSeconds, faults.seed) = (0.4, 0, 7)
        (faults.cutAfterBytes, faults.cutTimes) = (40_000, 2)
        try await ServiceHarness.with(backend, faults: faults) { h in
            let accepted = try await h.service.submit(lighthouse())
            try await h.runAllJobs()
            let task = try #require(try await h.service.task(id: accepted.id))
            #expect(task.clip?.verification?["passed"] == .bool(true))
            #expect(task.billed == Self.price)
            let stats = await h.session.sandbox.stats()
            #expect(stats.created(.dashscope) == 1)
            #expect(stats.cutDownloads == 2 && stats.rangeRequests >= 2)
            #expect(try await h.clips().count == 1)
        }
    }

    @Test("a submission refused with 429s through the job's last attempt fails its task and releases its reservation",
          arguments: LedgerBackend.allCases)
    func refusedThroughLastAttempt(_ backend: LedgerBackend) async throws {
        var faults = SandboxFaults.fast
        (faults.rate429, faults.retryAfterSeconds) = (1, 0)
        var configuration = ServiceHarness.configuration
        configuration.maxAttempts = 2
        try await ServiceHarness.with(backend, faults: faults, configuration: configuration) { h in
            try await h.ledger.transaction { try await $0.setBudget("account", limit: Money(10, "CNY")) }
            let accepted = try await h.service.submit(lighthouse())
            try await h.runAllJobs()
            let task = try #require(try await h.service.task(id: accepted.id))
            #expect(task.state == "failed" && task.error?.code?.hasPrefix("clipkit.") == true, "\(task)")
            #expect(task.clip == nil && task.billed == nil)
            let dead = try await h.ledger.jobs(state: .dead).map { "\($0.kind) after \($0.attempts): \($0.lastError ?? "")" }
            #expect(dead.isEmpty, "the job ends by recording the failure, not by dying: \(dead)")
            let budget = try #require(try await h.ledger.budgets().first)
            #expect(budget.reserved.isZero && budget.spent.isZero)
            #expect(await h.created() == 0)
        }
    }

    @Test("a failed task is recorded with the provider's code, leaves no clip and is not billed", arguments: LedgerBackend.allCases)
    func failedTask(_ backend: LedgerBackend) async throws {
        var faults = SandboxFaults.fast
        faults.failRate = 1
        try await ServiceHarness.with(backend, faults: faults) { h in
            try await h.ledger.transaction { try await $0.setBudget("account", limit: Money(10, "CNY")) }
            let accepted = try await h.service.submit(lighthouse())
            #expect(try await h.ledger.budgets().first?.reserved == Self.price)
            try await h.runAllJobs()
            let task = try #require(try await h.service.task(id: accepted.id))
            #expect(task.state == "failed" && task.status == "FAILED")
            #expect(task.error?.code == "InternalError.Algo" && task.error?.message?.isEmpty == false)
            #expect(task.clip == nil && task.billed == nil)
            #expect(try await h.clips().isEmpty)
            #expect(!FileManager.default.fileExists(atPath: h.data + "/clips/\(task.id).mp4"))
            #expect(try await h.ledger.jobs(kind: TaskService.Kind.download).isEmpty)
            let budget = try #require(try await h.ledger.budgets().first)
            #expect(budget.reserved.isZero && budget.spent.isZero)
            #expect(await h.created() == 1)
        }
    }

    @Test("an expired output URL (object storage's XML error) is recorded on the task, and no clip is stored")
    func expiredURL() async throws {
        var faults = SandboxFaults.fast
        faults.expiredURLRate = 1
        try await ServiceHarness.with(.sqlite, faults: faults) { h in
            let accepted = try await h.service.submit(lighthouse())
            try await h.runAllJobs()
            let task = try #require(try await h.service.task(id: accepted.id))
            #expect(task.state == "succeeded" && task.error?.code == "clipkit.downloadExpired" && task.clip == nil)
            #expect(try await h.ledger.jobs(kind: TaskService.Kind.download).map(\.state) == [.dead])
            #expect(try await h.ledger.jobs(kind: TaskService.Kind.verify).isEmpty)
            #expect(try await h.clips().isEmpty)
            let files = (try? FileManager.default.contentsOfDirectory(atPath: h.data + "/clips")) ?? []
            #expect(files.isEmpty, "nothing of the XML answer is kept: \(files)")
            #expect(await h.created() == 1)
        }
    }

    @Test("a task still running at the deadline is no longer polled and says why; its reservation stays held")
    func deadline() async throws {
        var faults = SandboxFaults.fast
        faults.runMs = 600_000
        var configuration = ServiceHarness.configuration
        (configuration.pollSlice, configuration.runner.deadline) = (.milliseconds(300), .seconds(1))
        try await ServiceHarness.with(.sqlite, faults: faults, configuration: configuration) { h in
            try await h.ledger.transaction { try await $0.setBudget("account", limit: Money(10, "CNY")) }
            let accepted = try await h.service.submit(lighthouse())
            try await h.runAllJobs()
            let task = try #require(try await h.service.task(id: accepted.id))
            // Queued or running: on a busy machine the deadline may pass before the sandbox starts it.
            #expect(["queued", "running"].contains(task.state) && task.error?.code == "clipkit.deadlineExceeded")
            #expect(task.error?.message?.contains(task.providerTaskID ?? "?") == true)
            let polls = try await h.ledger.jobs(kind: TaskService.Kind.poll)
            #expect(!polls.isEmpty && polls.allSatisfy { $0.state == .succeeded })
            #expect(try await h.ledger.jobs(kind: TaskService.Kind.download).isEmpty)
            #expect(try await h.ledger.budgets().first?.reserved == Self.price)
        }
    }

    @Test("concurrent requests never pass the account budget; the bills settle their reservations", arguments: LedgerBackend.allCases)
    func budget(_ backend: LedgerBackend) async throws {
        try await ServiceHarness.with(backend) { h in
            // Room for two clips and a bit, not three.
            let limit = Self.price * 2 + Money(Decimal(string: "0.01")!, Self.price.currency)
            try await h.ledger.transaction { try await $0.setBudget("account", limit: limit) }
            let service = h.service
            let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<6 {
                    group.addTask {
                        do {
                            _ = try await service.submit(lighthouse("shot \(index)"))
                            return true
                        } catch LedgerError.budgetExceeded {
                            return false
                        }
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 2)
            #expect(try await h.service.tasks().count == 2)
            try await h.runAllJobs()
            let budget = try #require(try await h.ledger.budgets().first)
            #expect(budget.spent == Self.price * 2 && budget.reserved.isZero)
            #expect(budget.left.amount == Decimal(string: "0.01")!)
            #expect(await h.created() == 2)
            #expect(try await h.service.tasks().allSatisfy { $0.billed == Self.price && $0.clip != nil })
        }
    }

    @Test("a webhook delivery polls its task at once, a redelivery does nothing, an unknown task's delivery is kept",
          arguments: LedgerBackend.allCases)
    func webhook(_ backend: LedgerBackend) async throws {
        try await ServiceHarness.with(backend) { h in
            let service = h.service, ledger = h.ledger
            let accepted = try await service.submit(lighthouse())
            // Only the submission runs, and its poll is cancelled: nothing but the webhook follows the task.
            try await h.runJobs(only: [TaskService.Kind.submit], until: "submitted") {
                try await service.task(id: accepted.id)?.providerTaskID != nil
            }
            let poll = try #require(try await ledger.jobs(kind: TaskService.Kind.poll).first)
            #expect(try await ledger.cancelJob(poll.id))
            let providerTaskID = try #require(try await service.task(id: accepted.id)?.providerTaskID)
            for (webhookID, taskID) in [("msg_1", providerTaskID), ("msg_1", providerTaskID), ("msg_2", "not-ours")] {
                try await ledger.transaction { tx in
                    let (delivery, isNew) = try await tx.recordWebhook(
                        provider: "dashscope", webhookID: webhookID, providerTaskID: taskID, body: #"{"id": "\#(taskID)"}"#)
                    if isNew { try await service.enqueueWebhook(delivery, in: tx) }
                }
            }
            try await h.runAllJobs()
            let task = try #require(try await service.task(id: accepted.id))
            #expect(task.state == "succeeded" && task.clip != nil)
            #expect(try await ledger.jobs(kind: TaskService.Kind.webhook).map(\.state) == [.succeeded, .succeeded])
            #expect(try await ledger.jobs(kind: TaskService.Kind.download).count == 1)
            let deliveries = try await ledger.read { try await $0.webhookDeliveries(provider: "dashscope", providerTaskID: providerTaskID) }
            #expect(deliveries.count == 1 && deliveries[0].processedAt != nil && deliveries[0].taskID == accepted.id)
            let unmatched = try await ledger.read { try await $0.unmatchedWebhookDeliveries() }
            #expect(unmatched.map(\.webhookID) == ["msg_2"] && unmatched[0].processedAt == nil)
            #expect(await h.created() == 1)
        }
    }

    @Test("a burst's deliveries are one job: every delivery of it is processed, across its transactions",
          arguments: LedgerBackend.allCases)
    func webhookBatch(_ backend: LedgerBackend) async throws {
        try await ServiceHarness.with(backend) { h in
            let service = h.service, ledger = h.ledger
            let accepted = [try await service.submit(lighthouse("first")), try await service.submit(lighthouse("second"))]
            try await h.runJobs(only: [TaskService.Kind.submit], until: "submitted") {
                try await service.tasks().allSatisfy { $0.providerTaskID != nil }
            }
            for poll in try await ledger.jobs(kind: TaskService.Kind.poll) { #expect(try await ledger.cancelJob(poll.id)) }
            var providerTaskIDs: [String] = []
            for task in accepted { providerTaskIDs.append(try #require(try await service.task(id: task.id)?.providerTaskID)) }
            // The known tasks' deliveries first and last, so they fall in different transactions of the job.
            let count = TaskService.webhooksPerTransaction + 5
            let named = (0..<count).map { $0 == 0 ? providerTaskIDs[0] : $0 == count - 1 ? providerTaskIDs[1] : "not-ours-\($0)" }
            try await ledger.transaction { tx in
                let recorded = try await tx.recordWebhooks(named.enumerated().map { index, taskID in
                    ArrivedWebhook(provider: "dashscope", webhookID: "msg_\(index)", providerTaskID: taskID, body: #"{"id": "\#(taskID)"}"#)
                })
                try await TaskService.enqueueWebhooks(recorded.map(\.delivery), in: tx)
            }
            // A job enqueued before batches, its payload one delivery's fields, is still processed.
            let late = try await ledger.transaction { tx in
                try await tx.recordWebhook(provider: "dashscope", webhookID: "msg_old", providerTaskID: providerTaskIDs[1], body: "{}").delivery
            }
            try await ledger.transaction { tx in
                _ = try await tx.enqueue(NewJob(kind: TaskService.Kind.webhook, payload: .object([
                    "delivery": .string(late.id), "provider": .string("dashscope"), "providerTaskID": .string(providerTaskIDs[1])]),
                    uniqueKey: "\(TaskService.Kind.webhook):\(late.id)"))
            }
            #expect(try await ledger.jobs(kind: TaskService.Kind.webhook).count == 2)
            try await h.runAllJobs()
            #expect(try await ledger.jobs(kind: TaskService.Kind.webhook).map(\.state) == [.succeeded, .succeeded])
            for task in accepted { #expect(try await service.task(id: task.id)?.state == "succeeded") }
            #expect(try await ledger.jobs(kind: TaskService.Kind.download).count == 2)
            let processed = try await ledger.read { tx in
                var processed: [String] = []
                for taskID in providerTaskIDs {
                    processed += try await tx.webhookDeliveries(provider: "dashscope", providerTaskID: taskID).filter { $0.processedAt != nil }.map(\.webhookID)
                }
                return processed.sorted()
            }
            #expect(processed == ["msg_0", "msg_\(count - 1)", "msg_old"].sorted())
            #expect(try await ledger.read { try await $0.unmatchedWebhookDeliveries() }.count == count - 2)
            #expect(await h.created() == 2)
        }
    }

    @Test("i2v from a data URI: the image is kept once under inputs/, the ledger holds only its length, the clip starts from it")
    func dataURIImage() async throws {
        try await ServiceHarness.with(.sqlite) { h in
            let picture = gradient(width: 640, height: 480)
            let png = try await picture.encoded(as: .png)
            let request = TaskRequest(provider: "dashscope", model: "wan2.2-i2v-flash", prompt: "slow push in",
                                      image: "data:image/png;base64," + png.base64EncodedString(), resolution: "480P", duration: 5)
            let accepted = try await h.service.submit(request)
            #expect(accepted.request?["image"]?.stringValue == "data:image/png;base64,<\(png.base64EncodedString().utf8.count) bytes>")
            let inputs = try FileManager.default.contentsOfDirectory(atPath: h.data + "/inputs")
            #expect(inputs.count == 1)
            #expect(try Data(contentsOf: URL(fileURLWithPath: h.data + "/inputs/" + inputs[0])) == png)
            _ = try await h.service.submit(request)  // the same image again: the same file
            #expect(try FileManager.default.contentsOfDirectory(atPath: h.data + "/inputs") == inputs)

            try await h.runAllJobs()
            let task = try #require(try await h.service.task(id: accepted.id))
            let clip = try #require(task.clip)
            let sent = try #require(task.request?["input"]?["img_url"]?.stringValue)
            #expect(sent.hasPrefix("data:image/png;base64,<") && sent.hasSuffix(" bytes>"))
            let first = try await RGBImage.load(h.data + "/" + (try #require(clip.frames["first"])))
            #expect(first.psnr(against: try await picture.resized(width: first.width, height: first.height)) > 30)
            #expect(await h.created() == 2)
        }
    }

    @Test("s2v with a data-URI voice: a clip as long as the voice and carrying it, verified against it, billed by its seconds",
          arguments: LedgerBackend.allCases, [false, true])
    func s2vVoice(_ backend: LedgerBackend, voiceDropped: Bool) async throws {
        var faults = SandboxFaults.fast
        faults.missingAudioRate = voiceDropped ? 1 : 0
        try await ServiceHarness.with(backend, faults: faults) { h in
            let voicePath = try Fixtures.shared.voice(seconds: 3.4, format: .mp3)
            let voice = try Data(contentsOf: URL(fileURLWithPath: voicePath))
            let portrait = try await gradient(width: 480, height: 640).encoded(as: .png)
            let accepted = try await h.service.submit(TaskRequest(
                provider: "dashscope", prompt: "she says hello", image: "data:image/png;base64," + portrait.base64EncodedString(),
                resolution: "480P", voice: "data:audio/mpeg;base64," + voice.base64EncodedString()))
            #expect(accepted.model == "wan2.2-s2v")
            try await h.runAllJobs()

            let task = try #require(try await h.service.task(id: accepted.id))
            let sent = try #require(task.request?["input"]?["audio_url"]?.stringValue)
            #expect(sent.hasPrefix("data:audio/mpeg;base64,<") && sent.hasSuffix(" bytes>"), "\(sent)")
            let clip = try #require(task.clip)
            let path = h.data + "/" + clip.path
            #expect(try Oracle.decodedFrameCount(path) == 102)  // 3.4 s at 30 fps
            // Billed by the voice's seconds, 3.4 × ¥0.50, whether or not the sound came with the clip.
            #expect(task.billed == Money(Decimal(string: "1.70")!, "CNY"))
            let findings = try await h.ledger.read { try await $0.findings(batch: "task:\(task.id)") }.map(\.finding)
            if voiceDropped {
                #expect(clip.verification?["passed"] == .bool(false))
                let failed = clip.verification?["failures"]?.arrayValue?.compactMap { $0["property"]?.stringValue }
                #expect(failed == ["audio"], "\(String(describing: clip.verification))")
                let missing = try #require(findings.first { $0.code == .audioMissing }, "\(findings)")
                #expect(missing.overBilled == Money(Decimal(string: "1.70")!, "CNY"))
            } else {
                #expect(clip.verification?["passed"] == .bool(true), "\(String(describing: clip.verification))")
                #expect(abs(try Oracle.decodedAudioSeconds(path) - 3.4) < 1.0 / 30)
                #expect(findings.isEmpty, "\(findings)")
            }
            #expect(await h.created() == 1)
        }
    }

    @Test("bad requests are refused before anything is stored or sent")
    func refusals() async throws {
        try await ServiceHarness.with(.sqlite) { h in
            let service = h.service
            await #expect(throws: TaskServiceError(.invalidRequest, "")) {
                try await service.submit(TaskRequest(provider: "dashscope", prompt: "x", image: "/etc/passwd"))
            }
            await #expect(throws: TaskServiceError(.invalidRequest, "")) {
                try await service.submit(TaskRequest(provider: "dashscope", prompt: "x", resolution: "4K"))
            }
            await #expect(throws: TaskServiceError(.unknownProvider, "")) {
                try await service.submit(TaskRequest(provider: "nowhere", prompt: "x"))
            }
            // s2v: a voice without a portrait, with a duration, of the wrong type, or that is not sound.
            let png = "data:image/png;base64," + (try await gradient(width: 64, height: 64).encoded(as: .png)).base64EncodedString()
            let notSound = "data:audio/wav;base64," + Data("<Error><Code>AccessDenied</Code></Error>".utf8).base64EncodedString()
            for request in [TaskRequest(provider: "dashscope", prompt: "x", voice: "https://example.com/v.mp3"),
                            TaskRequest(provider: "dashscope", prompt: "x", image: png, duration: 5, voice: "https://example.com/v.mp3"),
                            TaskRequest(provider: "dashscope", prompt: "x", image: png, voice: png),
                            TaskRequest(provider: "dashscope", prompt: "x", image: png, voice: notSound)] {
                await #expect(throws: TaskServiceError(.invalidRequest, "")) { try await service.submit(request) }
            }
            let inputs = (try? FileManager.default.contentsOfDirectory(atPath: h.data + "/inputs")) ?? []
            #expect(!inputs.contains { $0.hasSuffix(".wav") }, "a refused voice is not kept: \(inputs)")
            let tasks = try await h.service.tasks(), jobs = try await h.ledger.jobs()
            #expect(tasks.isEmpty && jobs.isEmpty)
            #expect(await h.session.sandbox.stats().submitRequests.isEmpty)
        }
    }
}

/// A smooth gradient: 4:2:0 video keeps it, so PSNR measures the generation.
func gradient(width: Int, height: Int) -> RGBImage {
    var pixels = [UInt8](repeating: 0, count: width * height * 3)
    for y in 0..<height {
        for x in 0..<width {
            let i = (y * width + x) * 3
            (pixels[i], pixels[i + 1], pixels[i + 2]) = (UInt8(50 + x * 160 / width), UInt8(70 + y * 120 / height), 140)
        }
    }
    return RGBImage(width: width, height: height, pixels: pixels)
}
