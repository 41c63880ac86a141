import ClipKitAudit
import ClipKitCore
import ClipKitMedia
@testable import ClipKitProviders
import ClipKitSandbox
import ClipKitTestSupport
import Foundation
import Testing

/// A portrait-shaped reference picture (3:4), so the clip's size shows the aspect was kept.
func portrait() -> RGBImage { testPicture(width: 480, height: 640) }

/// Audits every record and clip in `directory` with the built-in prices.
func auditFolder(_ directory: String) async throws -> AuditReport {
    var audit = Audit(priceBook: .builtIn)
    let clips = try ClipIndex(scanning: directory)
    try audit.read(recordPaths: [directory], clips: clips)
    return try await audit.run(clips: clips) { try await MediaProbe.probeAll($0) }
}

@Suite("s2v (wan2.2-s2v) against the sandbox")
struct S2VTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var seconds: Double
        var format: VoiceFormat
        var tier: Tier
        /// `usage.video_duration` exactly, and the price book's charge for it.
        var billed: String
        var charge: String
        var testDescription: String { "\(seconds) s \(format.rawValue) at \(tier.rawValue)" }
    }

    static let cases = [
        // 3.4 × 0.50 = 1.70; 10.23 × 0.90 = 9.207 → 9.21; 10.23 × 0.50 = 5.115 → 5.12 (half up, to the fen).
        Case(seconds: 3.4, format: .mp3, tier: .p480, billed: "3.4", charge: "1.70"),
        Case(seconds: 10.23, format: .wav, tier: .p720, billed: "10.23", charge: "9.21"),
        Case(seconds: 10.23, format: .mp3, tier: .p480, billed: "10.23", charge: "5.12"),
    ]

    @Test("a clip as long as the voice, with the voice as its AAC track, billed to the hundredth and audited clean",
          arguments: cases)
    func talkingClip(_ c: Case) async throws {
        try await Harness.with { h in
            let voice = try Fixtures.shared.voice(seconds: c.seconds, format: c.format)
            let image = try writePicture(portrait(), h.path("portrait.png"))
            let clip = h.path("talk.mp4")
            let request = GenerationRequest(model: "wan2.2-s2v", prompt: "she speaks to the camera", firstImage: .file(image),
                                            resolution: c.tier, inputAudio: .file(voice))
            #expect(request.mode == .s2v)
            let result = try await h.runner(h.client(.dashscope)).run(request, clipPath: clip)

            // The picture: 30 fps, the portrait's aspect at the tier, the reference image first.
            let info = await MediaProbe.probe(clip)
            #expect(info.error == nil)
            let video = try #require(info.video)
            #expect(info.tier == c.tier)
            #expect(video.height > video.width, "\(video.width)x\(video.height) keeps the 3:4 portrait")
            #expect(video.frameRate == Rational(30, 1))
            let frames = try Oracle.decodedFrameCount(clip)
            #expect(frames == Int((c.seconds * 30).rounded()))
            // The last frame ends where the voice does, within a frame.
            let pictureSeconds = try #require(Double(try Oracle.streamField(clip, "duration")))
            #expect(abs(pictureSeconds - c.seconds) <= 1.0 / 30 + 1e-6, "\(pictureSeconds) s of video")
            let first = try await FrameExtractor.extract(.first, from: clip)
            #expect(first.psnr(against: try await portrait().resized(width: video.width, height: video.height)) > 30)

            // The sound: AAC, as long as the voice (and so the video) within a frame.
            #expect(try Oracle.streamField(clip, "codec_name", stream: "a:0") == "aac")
            let heard = try Oracle.decodedAudioSeconds(clip)
            #expect(abs(heard - c.seconds) < 1.0 / 30, "\(heard) s of sound")
            #expect(AsBilledRule().soundtrack(of: info) == .asBilled)

            // The bill: usage.video_duration fractional, exactly; the voice's length in the record.
            let record = try RecordFile.read(TaskRecord.path(forClip: clip))
            #expect(record.usage?["video_duration"] == .number(Decimal(string: c.billed)!))
            #expect(abs(try #require(record.inputAudioDuration) - c.seconds) < 0.001)
            #expect(result.record.inputAudioDuration == record.inputAudioDuration)
            let sent = try #require(record.request?["input"]?["audio_url"]?.stringValue)
            #expect(sent.hasPrefix(c.format == .mp3 ? "data:audio/mpeg;base64,<" : "data:audio/wav;base64,<"))
            #expect(record.request?["input"]?["image_url"]?.stringValue?.hasPrefix("data:image/png;base64,<") == true)
            #expect(record.request?["parameters"]?["resolution"]?.stringValue == c.tier.rawValue)
            #expect(record.request?["parameters"]?["duration"] == nil, "the length is the voice's, not asked for")
            #expect(await h.sandbox.stats().created(.dashscope) == 1)
            expectNoKey([recordText(clip)])

            // The audit: priced exactly in Decimal, nothing disputed.
            let report = try await auditFolder(h.directory)
            #expect(report.findings.isEmpty, "\(report.findings.map(\.message))")
            let totals = try #require(report.summary.totals.first)
            #expect(totals.billed == Money(Decimal(string: c.charge)!, "CNY"))
            #expect(totals.disputed == .zero("CNY"))
        }
    }

    /// Generates a 720P talking clip from the portrait and `voice` into the session's folder.
    static func talk(_ h: Harness, voice: String, clip name: String) async throws -> String {
        let image = try writePicture(portrait(), h.path("portrait.png"))
        let clip = h.path(name)
        _ = try await h.runner(h.client(.dashscope)).run(
            GenerationRequest(model: "wan2.2-s2v", prompt: "", firstImage: .file(image), resolution: .p720,
                              inputAudio: .file(voice)), clipPath: clip)
        return clip
    }

    @Test("a clip cut short is flagged with the pro-rata amount over-billed; one without its voice with the whole charge")
    func faults() async throws {
        let voice = try Fixtures.shared.voice(seconds: 10.23, format: .wav)
        var short = SandboxFaults.fast
        short.shortClipRate = 1
        try await Harness.with(short) { h in
            let clip = try await Self.talk(h, voice: voice, clip: "cut.mp4")
            // 84 % of 307 frames: 257 (8.567 s), its sound cut with it, billed the whole 10.23 s.
            #expect(try Oracle.decodedFrameCount(clip) == 257)
            #expect(try RecordFile.read(TaskRecord.path(forClip: clip)).usage?["video_duration"] == .number(Decimal(string: "10.23")!))
            let report = try await auditFolder(h.directory)
            let finding = try #require(report.findings.first)
            #expect(report.findings.count == 1, "\(report.findings.map(\.message))")
            #expect(finding.code == .durationShort && finding.severity == .error)
            // 9.21 × (10.23 − 8.567) ÷ 10.23 = 1.4972… → 1.50 CNY.
            #expect(finding.overBilled == Money(Decimal(string: "1.50")!, "CNY"))
            #expect(finding.message.contains("lasts 8.567 s") && finding.message.contains("the voice sent lasts 10.23 s"))
        }
        var mute = SandboxFaults.fast
        mute.missingAudioRate = 1
        try await Harness.with(mute) { h in
            let clip = try await Self.talk(h, voice: voice, clip: "mute.mp4")
            #expect(await MediaProbe.probe(clip).audio == nil)
            #expect(try Oracle.decodedFrameCount(clip) == 307)
            let report = try await auditFolder(h.directory)
            let finding = try #require(report.findings.first)
            #expect(report.findings.count == 1, "\(report.findings.map(\.message))")
            #expect(finding.code == .audioMissing && finding.severity == .error)
            #expect(finding.overBilled == Money(Decimal(string: "9.21")!, "CNY"), "every second paid for is silent")
        }
    }

    @Test("the sandbox checks what the service would: both inputs, readable audio, 480P/720P, the image2video endpoint")
    func refusals() async throws {
        try await Harness.with { h in
            let client = h.client(.dashscope)
            let voice = try Fixtures.shared.voice(seconds: 3.4, format: .mp3)
            let good = try await client.prepare(GenerationRequest(model: "wan2.2-s2v", prompt: "x", firstImage: .image(portrait()),
                                                                  inputAudio: .file(voice)))
            #expect(good.url.hasSuffix("/api/v1/services/aigc/image2video/video-synthesis"))
            /// The good submission with `section.member` set to `value` (nil removes it), or sent to `url`.
            func changed(_ section: String = "input", _ member: String = "", to value: JSONValue? = nil,
                         url: String? = nil) -> PreparedSubmission {
                var body = good.body.objectValue!
                if !member.isEmpty {
                    var members = body[section]?.objectValue ?? [:]
                    members[member] = value
                    body[section] = .object(members)
                }
                return PreparedSubmission(model: good.model, prompt: good.prompt, body: .object(body), url: url ?? good.url)
            }
            let garbage = "data:audio/mpeg;base64," + Data("not audio".utf8).base64EncodedString()
            let refused: [(PreparedSubmission, String)] = [
                (changed("input", "audio_url"), "Field required: input.audio_url"),
                (changed("input", "image_url"), "Field required: input.image_url"),
                (changed("parameters", "resolution", to: .string("1080P")), "resolution 1080P is not supported by wan2.2-s2v"),
                (changed("input", "audio_url", to: .string(garbage)), "input.audio_url is not readable audio."),
                (changed("input", "audio_url", to: .string("https://example.com/voice.mp3")), "the sandbox is offline"),
                (changed(url: good.url.replacingOccurrences(of: "image2video", with: "video-generation")),
                 "url error, please check url!"),
            ]
            for (submission, message) in refused {
                let error = await #expect(throws: SubmitAttemptError.self) { try await client.submitOnce(submission) }
                guard case .http(_, _, let status, let code, let text) = error?.error else {
                    Issue.record("expected an HTTP refusal for \(message), got \(String(describing: error))")
                    continue
                }
                #expect(status == 400 && code?.hasPrefix("InvalidParameter") == true, "\(message): \(status) \(code ?? "")")
                #expect(text?.contains(message) == true, "\(text ?? "")")
                #expect(error?.mayHaveCreatedTask == false)
            }
            #expect(await h.sandbox.stats().created(.dashscope) == 0)
        }
    }

    @Test("WaveSpeed and ModelVerse offer no s2v: refused with modeUnsupported before anything is sent",
          arguments: [ProviderKind.wavespeed, .modelverse])
    func otherProviders(_ kind: ProviderKind) async throws {
        try await Harness.with { h in
            let voice = try Fixtures.shared.voice(seconds: 3.4, format: .wav)
            #expect(!kind.supports(.s2v) && ProviderKind.dashscope.supports(.s2v))
            let error = await #expect(throws: ProviderError.self) {
                try await h.runner(h.client(kind)).run(
                    GenerationRequest(model: kind.defaultModel(for: .s2v), prompt: "x", firstImage: .image(portrait()),
                                      inputAudio: .file(voice)), clipPath: h.path("no.mp4"))
            }
            #expect(error?.code == .modeUnsupported)
            #expect(error?.description.contains("\(kind.rawValue) offers no s2v generation") == true, "\(String(describing: error))")
            #expect(await h.sandbox.stats().submitRequests.values.reduce(0, +) == 0)
        }
    }

    @Test("a voice that is missing, without sound or not audio is refused before the provider is paid")
    func unreadableVoice() async throws {
        try await Harness.with { h in
            // An error page saved under the voice's name, as a failed download leaves it.
            let page = try Fixtures.shared.file("voice.mp3", bytes: Array("<!DOCTYPE html><html><body>Not found</body></html>".utf8))
            for (voice, code) in [(page, MediaProblem.Code.notMedia), (Samples.path(Samples.t2v480p), .noAudio),
                                  (h.path("missing.wav"), .notFound)] {
                let error = await #expect(throws: ProviderError.self) {
                    try await h.runner(h.client(.dashscope)).run(
                        GenerationRequest(model: "wan2.2-s2v", prompt: "x", firstImage: .image(portrait()), inputAudio: .file(voice)),
                        clipPath: h.path("v.mp4"))
                }
                #expect(error?.code == .audioUnreadable)
                #expect(error?.description.contains(voice) == true && error?.description.contains(code.rawValue) == true,
                        "\(String(describing: error))")
            }
            #expect(await h.sandbox.stats().submitRequests.values.reduce(0, +) == 0)
        }
    }
}
