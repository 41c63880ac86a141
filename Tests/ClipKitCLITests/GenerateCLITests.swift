import ClipKitMedia
import ClipKitTestSupport
import Foundation
import Testing

@Suite("clipkit generate and sandbox")
struct GenerateCLITests {
    @Test("--provider sandbox starts a sandbox in-process and writes the clip, its record, and progress on stderr")
    func sandboxEndToEnd() throws {
        let clip = Fixtures.shared.scratch("gen.mp4")
        let result = try clipkit("generate", "--provider", "sandbox", "--prompt", "a lighthouse at dusk", "-o", clip)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("submitted task") && result.stderr.contains("downloading"))
        #expect(result.stdout.isEmpty)
        #expect(try Oracle.decodedFrameCount(clip) == 150)
        let record = try #require(try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: clip.replacingOccurrences(of: ".mp4", with: ".task.json")))) as? [String: Any])
        #expect(record["kind"] as? String == "clipkit.task")
        #expect(record["provider"] as? String == "dashscope")
        #expect(record["outputFile"] as? String == URL(fileURLWithPath: clip).lastPathComponent)
        #expect((record["usage"] as? [String: Any])?["video_duration"] as? Int == 5)

        // Again without --force: refused before anything is submitted, exit 2.
        let again = try clipkit("generate", "--provider", "sandbox", "--prompt", "x", "-o", clip)
        #expect(again.status == 2 && again.stderr.contains("already exists"))
    }

    @Test("the ModelVerse protocol through the sandbox, i2v from a local image: the open model's 81 frames at 16 fps")
    func modelVerseImage() throws {
        let image = Fixtures.shared.scratch("first.png")
        try FrameExtractor.extract(.first, from: Samples.path(Samples.t2v480p)).write(to: image)
        let clip = Fixtures.shared.scratch("mv.mp4")
        let result = try clipkit("generate", "--provider", "sandbox", "--protocol", "modelverse", "--image", image,
                                 "--prompt", "waves", "-o", clip)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try Oracle.decodedFrameCount(clip) == 81)
        #expect(try Oracle.streamField(clip, "r_frame_rate") == "16/1")
    }

    @Test("usage errors exit 2: a missing image, a bad tier, no key for a real provider")
    func usageErrors() throws {
        let clip = Fixtures.shared.scratch("bad.mp4")
        let missing = try clipkit("generate", "--provider", "sandbox", "--image", "/no/such.png", "-o", clip)
        #expect(missing.status == 3 && missing.stderr.contains("/no/such.png"))
        let tier = try clipkit("generate", "--provider", "sandbox", "--prompt", "x", "--resolution", "4K", "-o", clip)
        #expect(tier.status == 2 && tier.stderr.contains("--resolution"))
        if ProcessInfo.processInfo.environment["MODELVERSE_API_KEY"] == nil {
            let config = try Fixtures.shared.file("empty-config.json", bytes: Array("{}".utf8))
            let noKey = try clipkit("generate", "--provider", "modelverse", "--config", config, "--prompt", "x", "-o", clip)
            #expect(noKey.status == 2 && noKey.stderr.contains("MODELVERSE_API_KEY"))
        }
    }

    @Test("clipkit sandbox refuses a malformed faults file with exit 2, naming the file and the member")
    func badFaults() throws {
        let faults = try Fixtures.shared.file("faults.json", bytes: Array(#"{"rate429": "often"}"#.utf8))
        let result = try clipkit("sandbox", "--port", "0", "--faults", faults)
        #expect(result.status == 2)
        #expect(result.stderr.contains(faults) && result.stderr.contains("rate429"))
    }
}
