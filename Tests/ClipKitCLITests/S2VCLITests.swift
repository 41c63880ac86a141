import ClipKitCore
import ClipKitMedia
import ClipKitTestSupport
import Foundation
import Testing

/// The JSON object in `text` (a command's stdout or a record file).
func jsonObject(_ data: Data) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
}

/// `clipkit generate --mode s2v` offline, then verify and audit, all through the built binary.
@Suite("clipkit generate --mode s2v, verify --audio-file, audit")
struct S2VCLITests {
    /// A 480×640 portrait PNG (a frame of the portrait sample, cropped by the sandbox to 3:4).
    func portraitImage() throws -> String {
        let path = Fixtures.shared.scratch("portrait.png")
        try FrameExtractor.extract(.first, from: Samples.path(Samples.portrait16fps)).write(to: path)
        return path
    }

    @Test("a 3.4 s MP3 voice: a 3.4 s clip with it, verified against the voice and audited at 1.70 CNY",
          arguments: [VoiceFormat.mp3, .wav])
    func generateVerifyAudit(_ format: VoiceFormat) throws {
        let voice = try Fixtures.shared.voice(seconds: 3.4, format: format)
        let folder = Fixtures.shared.scratch("s2v-cli")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let clip = folder + "/talk.mp4"
        let made = try clipkit("generate", "--provider", "sandbox", "--mode", "s2v", "--image", try portraitImage(),
                               "--audio", voice, "--prompt", "she says hello", "-o", clip)
        #expect(made.status == 0, "\(made.stderr)")
        #expect(made.stdout.isEmpty)
        #expect(made.stderr.contains("wrote \(clip)") && made.stderr.contains("102 frames"), "\(made.stderr)")
        #expect(try Oracle.decodedFrameCount(clip) == 102)
        #expect(abs(try Oracle.decodedAudioSeconds(clip) - 3.4) < 1.0 / 30)
        let record = try jsonObject(Data(contentsOf: URL(fileURLWithPath: folder + "/talk.task.json")))
        #expect(record["model"] as? String == "wan2.2-s2v")
        #expect(abs((record["inputAudioDuration"] as? Double ?? 0) - 3.4) < 0.001)
        #expect((record["usage"] as? [String: Any])?["video_duration"] as? Double == 3.4)

        // verify: as long as the voice, with it; another voice's length fails with exit 1.
        let verified = try clipkit("verify", clip, "--tier", "480P", "--fps", "30", "--audio-file", voice)
        #expect(verified.status == 0, "\(verified.text) \(verified.stderr)")
        let other = try Fixtures.shared.voice(seconds: 10.23, format: .wav)
        let wrong = try clipkit("verify", clip, "--audio-file", other)
        #expect(wrong.status == 1)
        #expect(wrong.text.contains("\(clip): duration: expected 10.23 s ± 1 frame, got 3.4 s, 102 frames"), "\(wrong.text)")
        #expect(try clipkit("verify", clip, "--audio-file", "/no/such.wav").status == 3)
        #expect(try clipkit("verify", clip, "--audio-file", voice, "--duration", "3.4").status == 2)

        // audit: priced exactly, nothing disputed, exit 0.
        let audited = try clipkit("audit", "--records", folder, "--clips", folder, "--format", "json")
        #expect(audited.status == 0, "\(audited.stderr)")
        let report = try jsonObject(audited.stdout)
        let totals = try #require(((report["summary"] as? [String: Any])?["totals"] as? [[String: Any]])?.first)
        #expect((totals["billed"] as? [String: Any])?["amount"] as? String == "1.70")
        #expect((totals["disputed"] as? [String: Any])?["amount"] as? String == "0.00")
        #expect((report["findings"] as? [Any])?.isEmpty == true)
    }

    @Test("a clip whose voice the sandbox dropped fails verify and is disputed in full by the audit")
    func missingVoice() throws {
        let voice = try Fixtures.shared.voice(seconds: 3.4, format: .wav)
        let folder = Fixtures.shared.scratch("s2v-mute")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let faults = folder + "/faults.json"
        try Data(#"{"queueMs": 50, "runMs": 100, "missingAudioRate": 1}"#.utf8).write(to: URL(fileURLWithPath: faults))
        // A sandbox of its own (port 0: a free one), with the fault, as a user would start it.
        let sandbox = Process()
        sandbox.executableURL = URL(fileURLWithPath: builtBinary("clipkit-engine"))
        sandbox.arguments = ["sandbox", "--port", "0", "--faults", faults]
        let log = Pipe()
        sandbox.standardError = log
        try sandbox.run()
        defer { sandbox.terminate(); sandbox.waitUntilExit() }
        var banner = ""
        while !banner.contains(" (DashScope") {
            let chunk = log.fileHandleForReading.availableData
            if chunk.isEmpty { break }  // it exited
            banner += String(decoding: chunk, as: UTF8.self)
        }
        let base = try #require(banner.firstRange(of: "listening on ").map { banner[$0.upperBound...].prefix { $0 != " " } })
        #expect(base.hasPrefix("http://127.0.0.1:"), "\(banner)")

        let clip = folder + "/mute.mp4"
        let made = try clipkit("generate", "--provider", "sandbox", "--base-url", String(base), "--image", try portraitImage(),
                               "--audio", voice, "-o", clip)
        #expect(made.status == 0, "\(made.stderr)")
        let verified = try clipkit("verify", clip, "--audio-file", voice)
        #expect(verified.status == 1)
        #expect(verified.text == "\(clip): audio: expected yes, got no\n", "\(verified.text)")
        let audited = try clipkit("audit", "--records", folder, "--clips", folder)
        #expect(audited.status == 1)
        #expect(audited.text.contains("audioMissing") && audited.text.contains("1.70 CNY"), "\(audited.text)")
    }

    @Test("usage and input errors: no voice, a missing voice, a provider without s2v, a switch for a voice")
    func errors() throws {
        let image = try portraitImage()
        let voice = try Fixtures.shared.voice(seconds: 3.4, format: .mp3)
        let clip = Fixtures.shared.scratch("s2v-bad.mp4")
        let noVoice = try clipkit("generate", "--provider", "sandbox", "--mode", "s2v", "--image", image, "-o", clip)
        #expect(noVoice.status == 2 && noVoice.stderr.contains("--mode s2v needs --image"), "\(noVoice.stderr)")
        let switchNotVoice = try clipkit("generate", "--provider", "sandbox", "--mode", "s2v", "--image", image,
                                         "--audio", "true", "-o", clip)
        #expect(switchNotVoice.status == 2)
        let missing = try clipkit("generate", "--provider", "sandbox", "--image", image, "--audio", "/no/voice.mp3", "-o", clip)
        #expect(missing.status == 3 && missing.stderr.contains("audio /no/voice.mp3 does not exist"), "\(missing.stderr)")
        let notAudio = try Fixtures.shared.file("not-a-voice.wav", bytes: Array("RIFF? no".utf8))
        let unreadable = try clipkit("generate", "--provider", "sandbox", "--image", image, "--audio", notAudio, "-o", clip)
        #expect(unreadable.status == 3 && unreadable.stderr.contains(notAudio), "\(unreadable.stderr)")
        let wavespeed = try clipkit("generate", "--provider", "sandbox", "--protocol", "wavespeed", "--image", image,
                                    "--audio", voice, "-o", clip)
        #expect(wavespeed.status == 2 && wavespeed.stderr.contains("wavespeed offers no s2v generation"), "\(wavespeed.stderr)")
        let duration = try clipkit("generate", "--provider", "sandbox", "--image", image, "--audio", voice,
                                   "--duration", "5", "-o", clip)
        #expect(duration.status == 2 && duration.stderr.contains("--duration does not apply to s2v"))
        let kf2v = try clipkit("generate", "--provider", "sandbox", "--mode", "i2v", "--image", image, "--audio", voice, "-o", clip)
        #expect(kf2v.status == 2 && kf2v.stderr.contains("a voice track is for --mode s2v"), "\(kf2v.stderr)")
        #expect(!FileManager.default.fileExists(atPath: clip))
    }
}
