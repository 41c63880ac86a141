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

    /// `clipkit` copied alone into an empty directory: whatever it prints there, it printed itself.
    static func launcherAlone() throws -> String {
        try Fixtures.shared.executableAlone(builtBinary("clipkit"), name: "launcher-alone")
    }

    @Test("alone in a directory, clipkit answers probe of an ordinary MP4 itself, with the engine's bytes",
          arguments: ["json", "jsonl", "table"])
    func answersProbeAlone(_ format: String) throws {
        let launcher = try Self.launcherAlone()
        let files = [Samples.path(Samples.t2v480p), Samples.path(Samples.audio720p), try Fixtures.shared.path(.editListCut)]
        let alone = try Tool.capture(launcher, ["probe", "--format", format] + files)
        let engine = try Tool.capture(builtBinary("clipkit-engine"), ["probe", "--format", format] + files)
        #expect(alone.status == 0, "\(alone.stderr)")
        #expect(engine.status == 0)
        #expect(alone.stdout == engine.stdout)
        #expect(!alone.stdout.isEmpty)
    }

    @Test("alone in a directory, clipkit exits 127 with the install hint for what it must hand on",
          arguments: ["mkv", "fragmented", "deep", "help", "verify-mkv", "frame"])
    func handsOnWithoutEngine(_ case: String) throws {
        let launcher = try Self.launcherAlone()
        let sample = Samples.path(Samples.t2v480p)
        let arguments: [String] = switch `case` {
        case "mkv": ["probe", try Fixtures.shared.path(.matroska)]
        case "fragmented": ["probe", sample, try Fixtures.shared.path(.fragmented)]
        case "deep": ["probe", "--deep", sample]
        case "help": ["probe", "--help"]
        case "verify-mkv": ["verify", try Fixtures.shared.path(.matroska), "--tier", "480P"]
        default: ["frame", sample, "-o", Fixtures.shared.scratch("never.png")]
        }
        let result = try Tool.capture(launcher, arguments)
        #expect(result.status == 127)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("cannot run \(URL(fileURLWithPath: launcher).deletingLastPathComponent().path)/clipkit-engine"))
        #expect(result.stderr.contains("install clipkit-engine beside clipkit"), "\(result.stderr)")
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
                                    "pixelFormat", "frameRate", "frameCount", "duration", "bitRate", "color"])
        #expect(video["frameRate"] as? String == "30/1")
        // The sample tags BT.709 in its VUI and in a colr box.
        let color = try #require(video["color"] as? [String: Any])
        #expect(Set(color.keys) == ["matrix", "range", "primaries", "transfer", "tagged", "basis", "writer"])
        #expect(color["matrix"] as? String == "bt709" && color["range"] as? String == "tv" && color["tagged"] as? Bool == true)
        #expect(color["primaries"] as? String == "bt709" && color["transfer"] as? String == "bt709" && color["basis"] as? String == "tag")
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

    @Test("says which matrix it used; --matrix overrides the evidence; a bad --matrix is a usage error")
    func matrix() throws {
        let clip = try Fixtures.shared.path(.untaggedHD)
        let auto = Fixtures.shared.scratch("cli-auto.png"), forced = Fixtures.shared.scratch("cli-709.png")
        let result = try clipkit("frame", clip, "-o", auto)
        #expect(result.status == 0)
        #expect(result.stderr.contains("matrix bt601 tv (untagged; written by x264 core "), "\(result.stderr)")
        let override = try clipkit("frame", clip, "--matrix", "bt709", "-o", forced)
        #expect(override.status == 0 && override.stderr.contains("matrix bt709 tv (chosen"), "\(override.stderr)")
        let (bt601, bt709) = (try RGBImage.load(auto), try RGBImage.load(forced))
        #expect(bt601 == (try Oracle.decodedFrames(clip)).last, "auto reads it as ffmpeg does")
        #expect(bt601.psnr(against: bt709) < 45, "the two matrices give visibly different pictures")
        #expect(try clipkit("frame", clip, "--matrix", "bt2020", "-o", Fixtures.shared.scratch("x.png")).status == 2)
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
    /// Invocations whose clip the launcher answers itself: it must print and exit exactly as the
    /// engine (the reference) does — passes, failures of each property, the frame tolerance.
    static let fastCases: [[String]] = {
        let (t2v, portrait, audio, hd) = (Samples.path(Samples.t2v480p), Samples.path(Samples.portrait16fps),
                                          Samples.path(Samples.audio720p), Samples.path(Samples.hd1080p))
        return [
            [t2v, "--tier", "480P", "--duration", "5", "--fps", "30", "--audio", "no"],
            [audio, "--tier", "1080P", "--duration", "5.5", "--fps", "30", "--audio", "yes"],
            [audio, "--tier", "720P", "--audio", "no"],
            [hd, "--tier", "1080P", "--duration", "5", "--fps=30"],
            [hd, "--tier", "480P", "--duration", "4"],
            [portrait, "--duration", "5"],
            [portrait, "--duration", "5", "--tolerance-frames", "0"],
            [portrait, "--tier", "480P", "--fps", "16", "--audio", "yes"],
        ]
    }()

    @Test("alone in a directory, clipkit answers verify of an ordinary MP4 itself: the engine's output and exit code",
          arguments: fastCases)
    func launcherMatchesEngine(_ arguments: [String]) throws {
        let alone = try Tool.capture(try LauncherTests.launcherAlone(), ["verify"] + arguments)
        let engine = try Tool.capture(builtBinary("clipkit-engine"), ["verify"] + arguments)
        #expect(alone.status != 127, "the launcher handed this on: \(alone.stderr)")
        #expect(alone.status == engine.status)
        #expect(alone.stdout == engine.stdout)
        #expect(alone.stderr == engine.stderr)
    }

    @Test("the fixtures the launcher answers: same verdict as the engine", arguments: [
        Fixture.editListCut, .rotated, .variableFrameRate, .audioLongerThanVideo, .hevc, .indexAtEnd, .singleGOP,
    ])
    func fixturesMatchEngine(_ fixture: Fixture) throws {
        let arguments = [try Fixtures.shared.path(fixture), "--tier", "480P", "--duration", "3", "--fps", "25", "--audio", "yes"]
        let alone = try Tool.capture(try LauncherTests.launcherAlone(), ["verify"] + arguments)
        let engine = try Tool.capture(builtBinary("clipkit-engine"), ["verify"] + arguments)
        #expect(alone.status == 1 && engine.status == 1)
        #expect(alone.stdout == engine.stdout && alone.stderr == engine.stderr)
    }

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
