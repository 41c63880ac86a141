import ClipKitCore
import ClipKitMedia
@testable import ClipKitProviders
import ClipKitSandbox
import ClipKitTestSupport
import Foundation
import Testing

@Suite("generation against the sandbox")
struct GenerationTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var kind: ProviderKind
        var model: String
        var fps: Int
        var frames: Int
        var terminal: String
        var testDescription: String { "\(kind.rawValue) \(model)" }
    }

    static let textCases = [
        Case(kind: .dashscope, model: "wan2.2-t2v-plus", fps: 30, frames: 150, terminal: "SUCCEEDED"),
        Case(kind: .wavespeed, model: "alibaba/wan-2.2/t2v-plus-480p", fps: 30, frames: 150, terminal: "completed"),
        Case(kind: .modelverse, model: "Wan-AI/Wan2.2-T2V", fps: 16, frames: 81, terminal: "Success"),
    ]

    @Test("t2v end to end: a real clip of the model's shape, one task, a complete record, no key", arguments: textCases)
    func textToVideo(_ c: Case) async throws {
        try await Harness.with { h in
            let clip = h.path("t2v.mp4")
            let events = EventLog()
            let request = GenerationRequest(model: c.model, prompt: "a lighthouse at dusk", resolution: .p480)
            let result = try await h.runner(h.client(c.kind)).run(request, clipPath: clip, events: events.callback)

            let info = MediaProbe.probe(clip)
            #expect(info.error == nil)
            #expect(info.video?.width == 832 && info.video?.height == 480)
            #expect(info.video?.frameRate == Rational(c.fps, 1))
            #expect(try Oracle.decodedFrameCount(clip) == c.frames)
            #expect(info.audio == nil)

            let record = try RecordFile.read(TaskRecord.path(forClip: clip))
            #expect(record.provider == c.kind.rawValue && record.model == c.model && record.taskID == result.record.taskID)
            #expect(record.statusHistory.map(\.status) == result.record.statusHistory.map(\.status))
            #expect(record.status == c.terminal)
            #expect(record.statusHistory.count >= 2, "queued/running states were seen: \(record.statusHistory.map(\.status))")
            #expect(record.outputURL?.hasPrefix(h.sandbox.baseURL) == true)
            #expect(record.outputFile == "t2v.mp4")
            #expect(record.endpoint == h.sandbox.baseURL)
            #expect(record.request?["model"]?.stringValue == c.model || record.request?["prompt"] != nil)
            #expect(await h.sandbox.stats().created(SandboxProtocol(rawValue: c.kind.rawValue)!) == 1)
            expectNoKey(events.all + [recordText(clip)])
        }
    }

    @Test("DashScope i2v keeps the image's aspect at the tier and starts from the image, then drifts warm")
    func imageToVideo() async throws {
        try await Harness.with { h in
            let picture = testPicture()
            let image = try writePicture(picture, h.path("first.png"))
            let clip = h.path("i2v.mp4")
            let request = GenerationRequest(model: "wan2.2-i2v-flash", prompt: "slow push in", firstImage: .file(image), resolution: .p480)
            _ = try await h.runner(h.client(.dashscope)).run(request, clipPath: clip)

            let info = MediaProbe.probe(clip)
            #expect(info.video?.width == 720 && info.video?.height == 544, "4:3 input gives the 4:3 480P size")
            #expect(info.tier == .p480)
            let first = try FrameExtractor.extract(.first, from: clip)
            #expect(try first.psnr(against: picture.resized(width: 720, height: 544)) > 30)
            let last = try FrameExtractor.extract(.last, from: clip)
            let (a, b) = (channelMeans(first), channelMeans(last))
            #expect((b.r - b.b) - (a.r - a.b) > 3, "a warm shift accumulates over the clip")
            // The request went as a data URI but the record keeps only its size.
            let sent = try #require(try RecordFile.read(TaskRecord.path(forClip: clip)).request?["input"]?["img_url"]?.stringValue)
            #expect(sent.hasPrefix("data:image/png;base64,<") && sent.hasSuffix(" bytes>"))
        }
    }

    @Test("kf2v: an oversized last frame is fitted within 2000 px, and the clip ends on it",
          arguments: [ProviderKind.dashscope, .wavespeed, .modelverse])
    func keyframes(_ kind: ProviderKind) async throws {
        try await Harness.with { h in
            let firstPicture = testPicture(), lastPicture = testPicture(width: 2400, height: 1800, shift: 90)
            let first = try writePicture(firstPicture, h.path("a.png")), last = try writePicture(lastPicture, h.path("b.png"))
            let clip = h.path("kf.mp4")
            let request = GenerationRequest(model: kind.defaultModel(for: .kf2v), prompt: "day to night",
                                            firstImage: .file(first), lastImage: .file(last), resolution: .p480)
            _ = try await h.runner(h.client(kind)).run(request, clipPath: clip)
            let info = MediaProbe.probe(clip)
            let (w, h) = (info.video!.width, info.video!.height)
            let end = try FrameExtractor.extract(.last, from: clip)
            #expect(end.psnr(against: try covered(lastPicture, w, h)) > 28)
            let start = try FrameExtractor.extract(.first, from: clip)
            #expect(start.psnr(against: try covered(firstPicture, w, h)) > 28)
        }
    }

    @Test("WaveSpeed i2v uploads the local image through media upload, not a data URI")
    func waveSpeedUpload() async throws {
        try await Harness.with { h in
            let image = try writePicture(testPicture(), h.path("first.png"))
            let clip = h.path("ws.mp4")
            let request = GenerationRequest(model: "alibaba/wan-2.2/i2v-plus-480p", prompt: "", firstImage: .file(image))
            let result = try await h.runner(h.client(.wavespeed)).run(request, clipPath: clip)
            let sent = try #require(result.record.request?["image"]?.stringValue)
            #expect(sent.hasPrefix(h.sandbox.baseURL + "/media/"))
            #expect(result.record.usage == nil, "WaveSpeed bills per clip and returns no usage object")
            #expect(try Oracle.decodedFrameCount(clip) == 150)
        }
    }

    @Test("wan2.5 clips carry audio at 24 fps, with the float-style usage shape recorded as returned")
    func wan25Audio() async throws {
        try await Harness.with { h in
            let clip = h.path("w25.mp4")
            let request = GenerationRequest(model: "wan2.5-t2v-preview", prompt: "rain on a tin roof", resolution: .p480)
            let result = try await h.runner(h.client(.dashscope)).run(request, clipPath: clip)
            let info = MediaProbe.probe(clip)
            #expect(info.audio != nil)
            #expect(info.video?.frameRate == Rational(24, 1))
            #expect(result.record.usage?["output_video_duration"]?.decimalValue == 5)
            #expect(result.record.usage?["SR"]?.decimalValue == 480)
        }
    }

    @Test("the usage object is recorded exactly as each model's shape returns it")
    func usageShapes() async throws {
        try await Harness.with { h in
            let plus = try await h.runner(h.client(.dashscope)).run(
                GenerationRequest(model: "wan2.2-t2v-plus", prompt: "x", size: "480*832"), clipPath: h.path("plus.mp4"))
            #expect(plus.record.usage == .object(["video_duration": .number(5), "video_count": .number(1), "SR": .number(480),
                                                  "video_ratio": .string("9:16")]))
            #expect(plus.media.video?.width == 480 && plus.media.video?.height == 832)
            let mv = try await h.runner(h.client(.modelverse)).run(
                GenerationRequest(model: "Wan-AI/Wan2.2-I2V", prompt: "x", firstImage: .image(testPicture())),
                clipPath: h.path("mv.mp4"))
            // ModelVerse's usage.duration is execution time (whole seconds), not the 5 s of video.
            #expect(mv.record.usage?["duration"]?.decimalValue != nil)
            #expect(mv.record.status == "Success")
        }
    }

    @Test("a router prefix (/alibailian) speaks the same DashScope protocol")
    func routerPrefix() async throws {
        try await Harness.with { h in
            let client = h.client(.dashscope, base: h.sandbox.routerBaseURL)
            let result = try await h.runner(client).run(GenerationRequest(model: "wan2.2-t2v-plus", prompt: "router"),
                                                       clipPath: h.path("r.mp4"))
            #expect(result.record.endpoint == h.sandbox.routerBaseURL)
            #expect(result.media.video?.frameCount == 150)
        }
    }

    @Test("a wrong key is refused with the provider's code and text, and the key is not in the message",
          arguments: ProviderKind.allCases)
    func wrongKey(_ kind: ProviderKind) async throws {
        try await Harness.with { h in
            let wrong = testKey + "-wrong"
            let client = h.client(kind, key: wrong)
            let error = await #expect(throws: ProviderError.self) {
                try await h.runner(client).run(GenerationRequest(model: kind.defaultModel(for: .t2v), prompt: "x",
                                                                 firstImage: kind == .modelverse ? .image(testPicture()) : nil),
                                               clipPath: h.path("k.mp4"))
            }
            let text = error?.description ?? ""
            #expect(text.contains("401") && text.contains("Invalid API-key provided."))
            #expect(!text.contains(wrong))
            #expect(await h.sandbox.stats().created(SandboxProtocol(rawValue: kind.rawValue)!) == 0)
        }
    }

    @Test("the submit hook gets the task id before polling starts, with the record already on disk")
    func submitHook() async throws {
        try await Harness.with { h in
            let clip = h.path("hook.mp4")
            let events = EventLog()
            let result = try await h.runner(h.client(.dashscope)).run(
                GenerationRequest(model: "wan2.2-t2v-plus", prompt: "hook"), clipPath: clip,
                onSubmitted: { record in
                    events.append("hook \(record.taskID)")
                    let saved = try RecordFile.read(TaskRecord.path(forClip: clip))
                    events.append("saved \(saved.taskID)")
                }, events: events.callback)
            let log = events.all
            let hook = try #require(log.firstIndex(of: "hook \(result.record.taskID)"))
            #expect(log.contains("saved \(result.record.taskID)"))
            let firstStatus = try #require(log.firstIndex { $0.hasPrefix("status(") })
            #expect(hook < firstStatus)
        }
    }

    @Test("a task left running (deadline passed, process gone) is resumed from its record alone, never resubmitted")
    func resumeFromRecord() async throws {
        var faults = SandboxFaults.fast
        faults.queueMs = 400
        try await Harness.with(faults) { h in
            let clip = h.path("resume.mp4")
            let error = await #expect(throws: ProviderError.self) {
                try await h.runner(h.client(.dashscope), deadline: .milliseconds(60)).run(
                    GenerationRequest(model: "wan2.2-t2v-plus", prompt: "resume me"), clipPath: clip)
            }
            guard case .deadlineExceeded = error else { Issue.record("expected deadlineExceeded, got \(String(describing: error))"); return }
            #expect(!FileManager.default.fileExists(atPath: clip))
            let saved = try RecordFile.read(TaskRecord.path(forClip: clip))
            // A new client and runner, as after a restart: only the record is carried over.
            let result = try await h.runner(h.client(.dashscope)).resume(saved, clipPath: clip)
            #expect(result.record.taskID == saved.taskID && result.record.status == "SUCCEEDED")
            #expect(try Oracle.decodedFrameCount(clip) == 150)
            #expect(await h.sandbox.stats().created(.dashscope) == 1)
            // Resuming a finished clip touches nothing.
            let again = try await h.runner(h.client(.dashscope)).resume(result.record, clipPath: clip)
            #expect(again.record.statusHistory.map(\.status) == result.record.statusHistory.map(\.status))
        }
    }

    @Test("cancel: DashScope and ModelVerse cancel a queued task; WaveSpeed says it cannot")
    func cancel() async throws {
        var faults = SandboxFaults.fast
        faults.queueMs = 2000
        try await Harness.with(faults) { h in
            for kind in [ProviderKind.dashscope, .modelverse] {
                let client = h.client(kind)
                let prepared = try await client.prepare(GenerationRequest(model: kind.defaultModel(for: .i2v), prompt: "x",
                                                                          firstImage: .image(testPicture())))
                let task = try await client.submitOnce(prepared)
                try await client.cancel(taskID: task.taskID)
                let snapshot = try await client.status(taskID: task.taskID)
                #expect(snapshot.state == (kind == .dashscope ? .canceled : .failed), "\(kind): \(snapshot.status)")
            }
            await #expect(throws: ProviderError.self) { try await h.client(.wavespeed).cancel(taskID: "x") }
        }
    }
}
