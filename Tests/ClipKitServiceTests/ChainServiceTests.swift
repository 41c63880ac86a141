import ClipKitAudit
import ClipKitChain
import ClipKitCore
import ClipKitLedger
import ClipKitMedia
import ClipKitSandbox
import ClipKitService
import ClipKitTestSupport
import Foundation
import Testing

@Suite("service: chains")
struct ChainServiceTests {
    /// `count` i2v segments from a data-URI first image, as a pipeline would post them.
    static func storyboard(_ count: Int) async throws -> Storyboard {
        let png = try await gradient(width: 640, height: 480).encoded(as: .png)
        return Storyboard(defaults: .init(provider: "dashscope", model: "wan2.2-i2v-flash", resolution: "480P", seed: 5),
                          firstImage: "data:image/png;base64," + png.base64EncodedString(),
                          segments: (1...count).map { .init(prompt: "segment \($0): the camera drifts on") })
    }

    /// What one 5-second 480P wan2.2-i2v-flash segment is estimated and billed at.
    static let segmentPrice = PriceBook.builtIn.rule(provider: "dashscope", model: "wan2.2-i2v-flash", tier: .p480)!.charge(seconds: 5)!

    /// A 2-segment chain run until it settles (2 attempts a job) in a data directory that has a file
    /// where `folder` should be, so nothing can be written there; it must end failed.
    static func failedChain(withFileInPlaceOf folder: String, _ backend: LedgerBackend,
                            _ body: (ServiceHarness, ChainSummary) async throws -> Void) async throws {
        var configuration = ServiceHarness.configuration
        configuration.maxAttempts = 2
        try await ServiceHarness.with(backend, configuration: configuration) { h in
            try FileManager.default.createDirectory(atPath: h.data, withIntermediateDirectories: true)
            #expect(FileManager.default.createFile(atPath: h.data + "/" + folder, contents: Data("not a folder".utf8)))
            let chain = try await Self.runUntilSettled(h, try await h.service.startChain(ChainRequest(storyboard: try await Self.storyboard(2))).id)
            #expect(chain.state == "failed")
            try await body(h, chain)
        }
    }

    static func runUntilSettled(_ h: ServiceHarness, _ id: String) async throws -> ChainSummary {
        try await h.runJobs(until: "chain \(id) is joined or failed") {
            ["joined", "failed"].contains(try await h.service.chain(id: id)?.state ?? "")
        }
        return try #require(try await h.service.chain(id: id))
    }

    @Test("a storyboard runs to one joined video: each segment from the previous clip's exact last frame, one submission each, no repeated frame at a seam, billed exactly within its budget",
          arguments: LedgerBackend.allCases)
    func joined(_ backend: LedgerBackend) async throws {
        try await ServiceHarness.with(backend) { h in
            let request = ChainRequest(storyboard: try await Self.storyboard(3), budget: Money(10, "CNY"))
            let started = try await h.service.startChain(request, idempotencyKey: "story-1")
            #expect(started.state == "running")
            #expect(started.budget?.limit == Money(10, "CNY"))
            #expect(try await h.service.startChain(request, idempotencyKey: "story-1").id == started.id, "the same key, the same chain")

            let chain = try await Self.runUntilSettled(h, started.id)
            #expect(chain.state == "joined", "\(chain.error ?? "")")
            #expect(await h.created() == 3, "one submission per segment")
            #expect(chain.segments.allSatisfy { $0.state == "accepted" && $0.tasks.count == 1 }, "\(chain.segments)")

            // Segment k+1 was sent segment k's last frame, which is exactly the clip's last frame as ffmpeg
            // decodes it, and its own clip opens on that picture.
            var tasks: [TaskSummary] = []
            for segment in chain.segments { tasks.append(try #require(try await h.service.task(id: segment.tasks[0].id))) }
            for k in 1..<3 {
                let previous = try #require(tasks[k - 1].clip)
                let sent = try await RGBImage.load(h.data + "/" + (try #require(previous.frames["last"])))
                let decoded = try Oracle.decodedFrames(h.data + "/" + previous.path)
                #expect(sent.psnr(against: try #require(decoded.last)) > 50, "segment \(k)'s last frame is exact")
                let opening = try await RGBImage.load(h.data + "/" + (try #require(tasks[k].clip?.frames["first"])))
                #expect(opening.psnr(against: sent) > 30, "segment \(k + 1) starts where segment \(k) ended")
            }

            // One video, the repeated first frame of each later clip dropped at its seam.
            let video = h.data + "/chains/\(chain.id).mp4"
            #expect(try Oracle.decodedFrameCount(video) == 150 + 2 * 149)
            let seams = chain.report?["concat"]?["seams"]?.arrayValue ?? []
            #expect(seams.count == 2 && seams.allSatisfy { $0["framesDropped"]?.decimalValue == 1 }, "\(seams)")
            #expect(chain.videoURL == "/v1/chains/\(chain.id)/video.mp4")
            #expect(try await RGBImage.load(h.data + "/chains/\(chain.id)-seams.png").width > 0)

            // Money: each segment billed exactly its price; the chain's budget spent that and holds nothing more.
            #expect(tasks.map(\.billed) == Array(repeating: Self.segmentPrice, count: 3))
            let spent = Money(3 * Self.segmentPrice.amount, "CNY")
            #expect(chain.billed == [spent])
            #expect(chain.budget?.spent == spent && chain.budget?.reserved.isZero == true, "\(String(describing: chain.budget))")
            #expect(chain.budget?.left == Money(10, "CNY") - spent)
        }
    }

    @Test("a storyboard estimated over its budget is refused before anything is stored or paid; bad ones are refused with the segment named",
          arguments: LedgerBackend.allCases)
    func refused(_ backend: LedgerBackend) async throws {
        try await ServiceHarness.with(backend) { h in
            let board = try await Self.storyboard(3)
            let tight = Money(2.5 * Self.segmentPrice.amount, "CNY")
            await #expect(throws: LedgerError(.budgetExceeded, "")) {
                try await h.service.startChain(ChainRequest(storyboard: board, budget: tight))
            }
            await #expect(throws: LedgerError(.currencyMismatch, "")) {
                try await h.service.startChain(ChainRequest(storyboard: board, budget: Money(100, "USD")))
            }
            var local = board
            local.segments[1].lastImage = "/etc/passwd"
            await #expect(throws: TaskServiceError(.invalidRequest, "")) {
                try await h.service.startChain(ChainRequest(storyboard: local))
            }
            await #expect(throws: TaskServiceError(.unknownProvider, "")) {
                try await h.service.startChain(ChainRequest(storyboard: board, provider: "elsewhere"))
            }
            await #expect(throws: TaskServiceError(.invalidRequest, "")) {
                try await h.service.startChain(ChainRequest(storyboard: Storyboard(defaults: board.defaults, segments: [])))
            }
            #expect(try await h.service.chains().isEmpty)
            #expect(try await h.ledger.budgets().isEmpty)
            #expect(try await h.ledger.jobs(limit: 10).isEmpty)
            #expect(await h.created() == 0)
        }
    }

    @Test("a clip that cannot be stored (clips/ is a file): each task's download job dies, the task says why, the chain tries again and then fails with the reasons",
          arguments: LedgerBackend.allCases)
    func downloadsDie(_ backend: LedgerBackend) async throws {
        try await Self.failedChain(withFileInPlaceOf: "clips", backend) { h, chain in
            #expect(chain.segments[0].tasks.count == 3 && chain.segments[0].tasks.allSatisfy { $0.error?.contains("task.download failed for good") == true },
                    "\(chain.segments[0].tasks)")
            #expect(chain.error?.contains("segment 1 failed 3 times") == true, "\(chain.error ?? "")")
            #expect(await h.created() == 3)
        }
    }

    @Test("a join that cannot be written (chains/ is a file) is retried, then fails the chain with the reason instead of leaving it joining",
          arguments: LedgerBackend.allCases)
    func joinDies(_ backend: LedgerBackend) async throws {
        try await Self.failedChain(withFileInPlaceOf: "chains", backend) { h, chain in
            #expect(chain.error?.contains("the join failed for good") == true, "\(chain.error ?? "")")
            #expect(chain.segments.allSatisfy { $0.tasks.count == 1 }, "both segments were generated once: only the join failed")
            let join = try #require(try await h.ledger.jobs(limit: 100).first { $0.kind == "chain.join" })
            #expect(join.state == .dead && join.attempts == 2)
            #expect(await h.created() == 2)
        }
    }

    @Test("short clips are paid for, rejected and generated again; a segment that always fails ends the chain with its reasons and its reservations released",
          arguments: LedgerBackend.allCases)
    func retries(_ backend: LedgerBackend) async throws {
        var configuration = ServiceHarness.configuration
        configuration.segmentAttempts = 6
        var faults = SandboxFaults.fast
        (faults.shortClipRate, faults.seed) = (0.5, 3)
        try await ServiceHarness.with(backend, faults: faults, configuration: configuration) { h in
            let chain = try await Self.runUntilSettled(h, try await h.service.startChain(ChainRequest(storyboard: try await Self.storyboard(2))).id)
            #expect(chain.state == "joined", "\(chain.error ?? "")")
            let attempts = chain.segments.flatMap(\.tasks)
            #expect(attempts.count > 2, "with this seed some clips come back short")
            #expect(await h.created() == attempts.count)
            // Every attempt was billed, the rejected ones too: the chain's bill says so.
            #expect(chain.billed == [Money(Decimal(attempts.count) * Self.segmentPrice.amount, "CNY")])
            #expect(try Oracle.decodedFrameCount(h.data + "/chains/\(chain.id).mp4") == 150 + 149)
        }
        faults = SandboxFaults.fast
        faults.failRate = 1
        try await ServiceHarness.with(backend, faults: faults) { h in
            try await h.ledger.transaction { _ = try await $0.setBudget("account", limit: Money(5, "CNY")) }
            let chain = try await Self.runUntilSettled(h, try await h.service.startChain(ChainRequest(storyboard: try await Self.storyboard(2))).id)
            #expect(chain.state == "failed")
            #expect(chain.error?.contains("segment 1 failed 3 times") == true, "\(chain.error ?? "")")
            #expect(chain.segments[0].tasks.count == 3 && chain.segments[1].tasks.isEmpty)
            #expect(await h.created() == 3)
            let account = try #require(try await h.ledger.budgets().first { $0.name == "account" })
            #expect(account.reserved.isZero && account.spent.isZero, "failed tasks hold and spend nothing")
        }
    }
}
