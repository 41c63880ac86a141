import ClipKitCore
import ClipKitMedia
import ClipKitTestSupport
import Foundation
import Testing

/// A binary built beside the test bundle: `clipkit` (the launcher) or `clipkit-engine`.
func builtBinary(_ name: String) -> String {
    URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        .appendingPathComponent(name).path
}

/// Runs the built `clipkit` binary, as users do: every command goes through the launcher.
func clipkit(_ arguments: String...) throws -> Tool.Result {
    try Tool.capture(builtBinary("clipkit"), arguments)
}

@Suite("clipkit launcher")
struct LauncherTests {
    @Test("clipkit links no FFmpeg: a probe does not pay for loading it")
    func launcherDoesNotLinkFFmpeg() throws {
        let needed = try Tool.run("readelf", ["-d", builtBinary("clipkit")]).text
        #expect(needed.contains("NEEDED"))
        #expect(!needed.contains("libav"), "\(needed)")
        #expect(try Tool.run("readelf", ["-d", builtBinary("clipkit-engine")]).text.contains("libavformat"))
    }

    @Test("the fast path prints byte for byte what the engine prints", arguments: ["json", "jsonl", "table"])
    func sameOutputAsEngine(_ format: String) throws {
        let files = Samples.all.map(Samples.path)
        let fast = try Tool.capture(builtBinary("clipkit"), ["probe", "--format", format] + files)
        let engine = try Tool.capture(builtBinary("clipkit-engine"), ["probe", "--format=\(format)"] + files)
        #expect(fast.status == 0 && engine.status == 0)
        #expect(fast.text == engine.text)
    }

    @Test("a batch the fast path cannot answer whole (an MKV among MP4s) goes to the engine, same output")
    func mixedBatchFallsBack() throws {
        let files = [Samples.path(Samples.t2v480p), try Fixtures.shared.path(.matroska), try Fixtures.shared.path(.fragmented)]
        let launched = try Tool.capture(builtBinary("clipkit"), ["probe", "--format", "jsonl"] + files)
        let engine = try Tool.capture(builtBinary("clipkit-engine"), ["probe", "--format", "jsonl"] + files)
        #expect(launched.status == 0)
        #expect(launched.text == engine.text)
        #expect(launched.text.split(separator: "\n").count == 3)
    }
}

@Suite("clipkit probe")
struct ProbeCLITests {
    @Test("JSON output keeps the documented contract")
    func jsonContract() throws {
        let result = try clipkit("probe", Samples.path(Samples.t2v480p), Samples.path(Samples.audio720p), "--format", "json")
        #expect(result.status == 0)
        let array = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [[String: Any]])
        #expect(array.count == 2)
        let silent = array[0], withAudio = array[1]
        #expect(Set(silent.keys) == ["path", "fileSize", "container", "duration", "tier", "video", "audio", "error"])
        #expect(silent["audio"] is NSNull && silent["error"] is NSNull)
        #expect(silent["tier"] as? String == "480P")
        #expect(silent["container"] as? String == "mp4")
        let video = try #require(silent["video"] as? [String: Any])
        #expect(Set(video.keys) == ["codec", "profile", "width", "height", "displayWidth", "displayHeight", "rotation",
                                    "pixelFormat", "frameRate", "frameCount", "duration", "bitRate"])
        #expect(video["frameRate"] as? String == "30/1")
        #expect(video["frameCount"] as? Int == 150)
        #expect(video["duration"] as? Double == 5)
        let audio = try #require(withAudio["audio"] as? [String: Any])
        #expect(Set(audio.keys) == ["codec", "sampleRate", "channels", "duration"])
        #expect(audio["sampleRate"] as? Int == 48000)
    }

    @Test("a batch reports the bad input, probes the rest and exits 3")
    func batchWithBadInput() throws {
        let xml = try Fixtures.shared.file("cli-expired.mp4", bytes: Array("<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code></Error>".utf8))
        let result = try clipkit("probe", Samples.path(Samples.t2v480p), xml, "/no/such.mp4", Samples.path(Samples.hd1080p), "--format", "jsonl")
        #expect(result.status == 3)
        let lines = result.text.split(separator: "\n")
        #expect(lines.count == 4)
        let objects = try lines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        let codes = objects.map { ($0["error"] as? [String: Any])?["code"] as? String }
        #expect(codes == [nil, "notMedia", "notFound", nil])
        #expect(((objects[3]["video"] as? [String: Any])?["frameCount"] as? Int) == 150)
        #expect(result.stderr.contains(xml))
    }

    @Test("the table names tier, frames and errors")
    func table() throws {
        let result = try clipkit("probe", Samples.path(Samples.portrait16fps))
        #expect(result.status == 0)
        #expect(result.text.contains("480P") && result.text.contains("81") && result.text.contains("480x832"))
    }
}

@Suite("clipkit frame")
struct FrameCLITests {
    @Test("writes the exact last frame, refuses to overwrite without --force")
    func lastFrame() throws {
        let clip = Samples.path(Samples.t2v480p)
        let out = Fixtures.shared.scratch("cli-last.png")
        #expect(try clipkit("frame", clip, "-o", out).status == 0)
        let reference = try Oracle.decodedFrames(clip)
        #expect(try RGBImage.load(out) == reference.last)

        let again = try clipkit("frame", clip, "--first", "-o", out)
        #expect(again.status == 2)
        #expect(again.stderr.contains("--force"))
        #expect(try RGBImage.load(out) == reference.last, "the existing file is untouched")
        #expect(try clipkit("frame", clip, "--first", "-o", out, "--force").status == 0)
        #expect(try RGBImage.load(out) == reference.first)
    }

    @Test("exit codes: unreadable clip 3, no such frame 2, bad arguments 2")
    func exitCodes() throws {
        let out = Fixtures.shared.scratch("cli-x.png")
        #expect(try clipkit("frame", "/no/such.mp4", "-o", out).status == 3)
        #expect(try clipkit("frame", Samples.path(Samples.t2v480p), "--index", "150", "-o", out).status == 2)
        #expect(try clipkit("frame", Samples.path(Samples.t2v480p), "-o", Fixtures.shared.scratch("x.gif")).status == 2)
        #expect(try clipkit("frame", Samples.path(Samples.t2v480p), "--index", "1", "--time", "1", "-o", out).status == 2)
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}

@Suite("clipkit verify")
struct VerifyCLITests {
    @Test("passes a clip that is as billed")
    func passes() throws {
        let result = try clipkit("verify", Samples.path(Samples.t2v480p), "--tier", "480P", "--duration", "5", "--fps", "30", "--audio", "no")
        #expect(result.status == 0)
        #expect(result.text.isEmpty)
    }

    @Test("fails with one line per wrong property")
    func fails() throws {
        let result = try clipkit("verify", Samples.path(Samples.audio720p), "--tier", "1080P", "--duration", "5.5", "--fps", "30", "--audio", "yes")
        #expect(result.status == 1)
        let lines = result.text.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines.contains { $0.contains("tier: expected 1080P, got 720P") })
        #expect(lines.contains { $0.contains("duration") })
        #expect(lines.contains { $0.contains("fps") })
    }

    @Test("the frame tolerance decides a short clip; a longer one is as billed")
    func tolerance() throws {
        // The 30 fps sample is 150 frames = 5 s: 1.5 frames short of 5.05 s.
        let sample = Samples.path(Samples.t2v480p)
        #expect(try clipkit("verify", sample, "--duration", "5.05").status == 1)
        #expect(try clipkit("verify", sample, "--duration", "5.05", "--tolerance-frames", "1.5").status == 0)
        #expect(try clipkit("verify", sample, "--duration", "5.05", "--tolerance-frames", "2").status == 0)
        // The 16 fps sample is 81 frames = 5.0625 s: one frame over 5 s, which costs the buyer nothing
        // (the as-billed rule shared with chain and audit; this was a failure before the rule was unified).
        #expect(try clipkit("verify", Samples.path(Samples.portrait16fps), "--duration", "5").status == 0)
        #expect(try clipkit("verify", Samples.path(Samples.portrait16fps), "--duration", "5", "--tolerance-frames", "0").status == 0)
    }

    @Test("usage errors exit 2, unreadable clips 3")
    func errors() throws {
        #expect(try clipkit("verify", Samples.path(Samples.t2v480p)).status == 2)
        #expect(try clipkit("verify", Samples.path(Samples.t2v480p), "--tier", "4K").status == 2)
        #expect(try clipkit("verify", "/no/such.mp4", "--tier", "480P").status == 3)
        #expect(try clipkit("probe", "--no-such-flag").status == 2)
    }
}
