import ClipKitCore
import ClipKitMedia
@testable import ClipKitProviders
import ClipKitSandbox
import ClipKitTestSupport
import Foundation
import Testing

/// Every fault, for every provider: no clip is lost, no task is created twice, errors say what happened.
@Suite("faults")
struct FaultTests {
    static let kinds = ProviderKind.allCases

    /// A small i2v request every provider can take (ModelVerse has no hosted t2v on the docs' page).
    static func request(_ kind: ProviderKind, prompt: String = "faulty") -> GenerationRequest {
        GenerationRequest(model: kind.defaultModel(for: .i2v), prompt: prompt, firstImage: .image(testPicture()))
    }

    static func proto(_ kind: ProviderKind) -> SandboxProtocol { SandboxProtocol(rawValue: kind.rawValue)! }

    @Test("429 and 500 on every kind of call: retried to success, one task created", arguments: kinds)
    func rateLimitsAndServerErrors(_ kind: ProviderKind) async throws {
        var faults = SandboxFaults.fast
        (faults.rate429, faults.rate500, faults.retryAfterSeconds, faults.seed) = (0.35, 0.2, 0, 11)
        try await Harness.with(faults) { h in
            let events = EventLog()
            let clip = h.path("rate.mp4")
            let result = try await h.runner(h.client(kind)).run(Self.request(kind), clipPath: clip, events: events.callback)
            #expect(result.media.error == nil)
            let stats = await h.sandbox.stats()
            #expect(stats.created(Self.proto(kind)) == 1)
            #expect((stats.submitRequests[kind.rawValue] ?? 0) >= 1)
            expectNoKey(events.all + [recordText(clip)])
        }
    }

    @Test("a lost submit answer: DashScope and WaveSpeed find the task by listing; ModelVerse stops without resubmitting",
          arguments: kinds)
    func lostSubmitAnswer(_ kind: ProviderKind) async throws {
        var faults = SandboxFaults.fast
        faults.lostSubmitRate = 1
        try await Harness.with(faults) { h in
            let events = EventLog()
            let clip = h.path("lost.mp4")
            if kind == .modelverse {
                let error = await #expect(throws: ProviderError.self) {
                    try await h.runner(h.client(kind)).run(Self.request(kind), clipPath: clip, events: events.callback)
                }
                guard case .submissionUncertain = error else { Issue.record("got \(String(describing: error))"); return }
                #expect(error?.description.contains("not resubmitted") == true)
            } else {
                let result = try await h.runner(h.client(kind)).run(Self.request(kind), clipPath: clip, events: events.callback)
                #expect(events.all.contains { $0.contains("recovered: true") })
                #expect(result.media.error == nil)
            }
            let stats = await h.sandbox.stats()
            #expect(stats.created(Self.proto(kind)) == 1)
            #expect(stats.submitRequests[kind.rawValue] == 1)
        }
    }

    @Test("a failed task surfaces the provider's code and text, is recorded, and leaves no clip", arguments: kinds)
    func failedTask(_ kind: ProviderKind) async throws {
        var faults = SandboxFaults.fast
        faults.failRate = 1
        try await Harness.with(faults) { h in
            let clip = h.path("fail.mp4")
            let error = await #expect(throws: ProviderError.self) {
                try await h.runner(h.client(kind)).run(Self.request(kind), clipPath: clip)
            }
            guard case .taskFailed(_, let taskID, let status, _, let message) = error else {
                Issue.record("got \(String(describing: error))")
                return
            }
            #expect(["FAILED", "failed", "Failure"].contains(status))
            #expect(message?.isEmpty == false)
            let record = try RecordFile.read(TaskRecord.path(forClip: clip))
            #expect(record.taskID == taskID && record.status == status && record.error?.message == message)
            if kind == .dashscope { #expect(record.error?.code == "InternalError.Algo") }
            #expect(!FileManager.default.fileExists(atPath: clip))
            #expect(await h.sandbox.stats().created(Self.proto(kind)) == 1)
        }
    }

    @Test("content-blocked: DashScope DataInspectionFailed and ModelVerse moderation fail flagged; WaveSpeed delivers a flagged clip",
          arguments: kinds)
    func blocked(_ kind: ProviderKind) async throws {
        var faults = SandboxFaults.fast
        faults.blockedRate = 1
        try await Harness.with(faults) { h in
            let clip = h.path("blocked.mp4")
            if kind == .wavespeed {
                let result = try await h.runner(h.client(kind)).run(Self.request(kind), clipPath: clip)
                #expect(result.contentFlagged)
                #expect(FileManager.default.fileExists(atPath: clip), "a billed clip is kept, flagged")
            } else {
                let error = await #expect(throws: ProviderError.self) {
                    try await h.runner(h.client(kind)).run(Self.request(kind), clipPath: clip)
                }
                if kind == .dashscope { #expect(error?.description.contains("DataInspectionFailed") == true) }
                let record = try RecordFile.read(TaskRecord.path(forClip: clip))
                #expect(record.contentFlagged == true)
            }
        }
    }

    @Test("an expired output URL (XML error body) is reported as such and never saved as a clip", arguments: kinds)
    func expiredURL(_ kind: ProviderKind) async throws {
        var faults = SandboxFaults.fast
        faults.expiredURLRate = 1
        try await Harness.with(faults) { h in
            let clip = h.path("expired.mp4")
            let error = await #expect(throws: ProviderError.self) {
                try await h.runner(h.client(kind)).run(Self.request(kind), clipPath: clip)
            }
            guard case .downloadExpired(_, _, let status, let detail) = error else {
                Issue.record("got \(String(describing: error))")
                return
            }
            #expect(status == 403 && detail.contains("AccessDenied"))
            #expect(error?.description.contains("download URL expired or denied") == true)
            #expect(!FileManager.default.fileExists(atPath: clip))
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: h.directory).filter { $0.hasSuffix(".part.mp4") }
            #expect(leftovers.isEmpty)
            #expect(try RecordFile.read(TaskRecord.path(forClip: clip)).error?.code == "clipkit.downloadExpired")
        }
    }

    @Test("a download cut twice mid-way is resumed with Range and arrives complete", arguments: kinds)
    func cutDownload(_ kind: ProviderKind) async throws {
        var faults = SandboxFaults.fast
        (faults.cutAfterBytes, faults.cutTimes) = (60_000, 2)
        try await Harness.with(faults) { h in
            let clip = h.path("cut.mp4")
            let result = try await h.runner(h.client(kind)).run(Self.request(kind), clipPath: clip)
            let stats = await h.sandbox.stats()
            #expect(stats.cutDownloads == 2)
            // Each cut is followed by a ranged request unless it delivered nothing at all; at least one did.
            #expect(stats.rangeRequests >= 1)
            // Complete: the same bytes as an uncut fetch of the output URL, and every frame decodes.
            let whole = try await h.transport.perform(method: .GET, url: try #require(result.record.outputURL), headers: [], body: nil).body
            #expect(try Data(contentsOf: URL(fileURLWithPath: clip)) == whole)
            #expect(try Oracle.decodedFrameCount(clip) == result.media.video?.frameCount)
        }
    }

    @Test("a short clip (4.2 s) billed as 5 s: the record keeps the usage as billed, the clip shows the truth")
    func shortClip() async throws {
        var faults = SandboxFaults.fast
        faults.shortClipRate = 1
        try await Harness.with(faults) { h in
            let result = try await h.runner(h.client(.dashscope)).run(
                GenerationRequest(model: "wan2.2-t2v-plus", prompt: "short"), clipPath: h.path("short.mp4"))
            #expect(result.record.usage?["video_duration"]?.decimalValue == 5)
            #expect(try Oracle.decodedFrameCount(result.clipPath) == 126)
            #expect(abs((result.media.duration ?? 0) - 4.2) < 0.05)
        }
    }

    @Test("a wrong-tier clip: asked 480P, delivered 720P, request recorded as asked")
    func wrongTier() async throws {
        var faults = SandboxFaults.fast
        faults.wrongTierRate = 1
        try await Harness.with(faults) { h in
            let result = try await h.runner(h.client(.modelverse)).run(
                GenerationRequest(model: "Wan-AI/Wan2.2-I2V", prompt: "tier", firstImage: .image(testPicture(width: 832, height: 480)),
                                  resolution: .p480),
                clipPath: h.path("tier.mp4"))
            #expect(result.media.tier == .p720)
            #expect(result.record.request?["parameters"]?["resolution"]?.stringValue == "480P")
        }
    }

    @Test("an expired task answers UNKNOWN / Expired / 404 and is reported as unknown, not retried", arguments: kinds)
    func expiredTask(_ kind: ProviderKind) async throws {
        var faults = SandboxFaults.fast
        (faults.queueMs, faults.expireTasksAfterMs) = (5000, 30)
        try await Harness.with(faults) { h in
            let error = await #expect(throws: ProviderError.self) {
                try await h.runner(h.client(kind)).run(Self.request(kind), clipPath: h.path("old.mp4"))
            }
            guard case .taskExpired(_, _, let status) = error else { Issue.record("got \(String(describing: error))"); return }
            #expect(["UNKNOWN", "Expired", "not found"].contains(status))
            #expect(await h.sandbox.stats().created(Self.proto(kind)) == 1)
        }
    }

    @Test("latency on every call still completes within the deadline")
    func latency() async throws {
        var faults = SandboxFaults.fast
        faults.latencyMs = 40
        try await Harness.with(faults) { h in
            let started = ContinuousClock.now
            let result = try await h.runner(h.client(.wavespeed)).run(Self.request(.wavespeed), clipPath: h.path("slow.mp4"))
            #expect(result.media.error == nil)
            #expect(ContinuousClock.now - started > .milliseconds(120), "latency was applied")
        }
    }

    @Test("all faults at once, three requests per provider: every clip arrives, each request created one task")
    func everything() async throws {
        var faults = SandboxFaults.fast
        (faults.rate429, faults.rate500, faults.retryAfterSeconds, faults.lostSubmitRate) = (0.2, 0.15, 0, 0.3)
        (faults.cutAfterBytes, faults.cutTimes, faults.latencyMs, faults.seed) = (80_000, 1, 5, 5)
        try await Harness.with(faults) { h in
            for kind in [ProviderKind.dashscope, .wavespeed] {
                for index in 0..<3 {
                    let clip = h.path("\(kind.rawValue)-\(index).mp4")
                    let result = try await h.runner(h.client(kind)).run(Self.request(kind, prompt: "shot \(index)"), clipPath: clip)
                    #expect(result.media.error == nil)
                    expectNoKey([recordText(clip)])
                }
                #expect(await h.sandbox.stats().created(Self.proto(kind)) == 3)
            }
        }
    }
}
