import ClipKitCore
import ClipKitMedia
import ClipKitTestSupport
import Foundation
import Testing

/// Clips made for concat tests: a "chain" cut from one moving pattern so that each clip starts with
/// exactly the previous clip's last frame (as an i2v model starts from the image it was given),
/// optionally with a colour drift that grows clip after clip.
enum ChainFixture {
    static let framesPerClip = 31

    static func make(_ name: String, clips: Int, drift: Bool, size: String = "320x240", rate: Int = 30) throws -> [String] {
        let directory = Fixtures.shared.directory + "/\(name)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let total = clips * (framesPerClip - 1) + 1
        return try (0..<clips).map { k in
            let path = directory + "/clip\(k).mp4"
            guard !FileManager.default.fileExists(atPath: path) else { return path }
            let first = k * (framesPerClip - 1)
            // Each generation warms the picture a little and flattens its contrast, compounding.
            let grade = drift ? ",colorchannelmixer=rr=\(1 + 0.04 * Double(k)):bb=\(1 - 0.04 * Double(k)),eq=contrast=\(1 - 0.05 * Double(k))" : ""
            try Tool.run("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=\(size):rate=\(rate):duration=\(Double(total) / Double(rate) + 1)",
                                    "-vf", "select=between(n\\,\(first)\\,\(first + framesPerClip - 1)),setpts=N/FRAME_RATE/TB\(grade)",
                                    "-frames:v", "\(framesPerClip)", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
                                    "-colorspace", "bt709", path])
            return path
        }
    }
}

@Suite("Concat")
struct ConcatTests {
    @Test("compatible clips are copied: packets identical, timeline continuous, duration the sum")
    func streamCopy() throws {
        let clip = Samples.path(Samples.t2v480p)
        let output = Fixtures.shared.scratch("copy.mp4")
        let result = try Concatenator.concat([clip, clip, clip], to: output)
        #expect(result.report.mode == .copy)
        let info = MediaProbe.probe(output)
        #expect(info.video?.frameCount == 450)
        #expect(abs((info.video?.duration ?? 0) - 15) < 0.001)
        #expect(try Oracle.decodedFrameCount(output) == 450)
        // Packet payloads are the inputs' own, in order.
        let packets = { (path: String) in try Tool.run("ffprobe", ["-v", "error", "-select_streams", "v", "-show_entries",
                                                                   "packet=size", "-of", "csv=p=0", path]).text.split(separator: "\n") }
        #expect(try packets(output) == (try packets(clip)) + (try packets(clip)) + (try packets(clip)))
        #expect(try Tool.run("ffmpeg", ["-v", "error", "-i", output, "-f", "null", "-"]).stderr.isEmpty)
        #expect(try Oracle.decodedFrames(output)[150] == (try Oracle.decodedFrames(clip))[0])
    }

    @Test("repeated seam frames are dropped: no two adjacent output frames are near-identical")
    func seamDrop() throws {
        let clips = try ChainFixture.make("chain", clips: 4, drift: false)
        let kept = Fixtures.shared.scratch("kept.mp4"), dropped = Fixtures.shared.scratch("dropped.mp4")
        _ = try Concatenator.concat(clips, to: kept)
        let result = try Concatenator.concat(clips, to: dropped, options: ConcatOptions(seam: .drop))
        #expect(result.report.mode == .reencode)
        #expect(result.report.seams.map(\.framesDropped) == [1, 1, 1])
        #expect(result.report.seams.allSatisfy { $0.similarity >= result.report.seamThreshold })
        #expect(result.report.frames == 4 * 31 - 3)
        #expect(MediaProbe.probe(dropped).video?.frameCount == 121)

        func maxAdjacentPSNR(_ path: String) throws -> Double {
            let frames = try Oracle.decodedFrames(path)
            return zip(frames, frames.dropFirst()).map { $0.psnr(against: $1) }.max() ?? 0
        }
        // Motion makes adjacent frames ~20 dB apart; a repeat, encoded once as a P- and once as an I-frame, ~35 dB.
        #expect(try maxAdjacentPSNR(kept) > 30, "keeping seams leaves the repeats (so the test can see them)")
        #expect(try maxAdjacentPSNR(dropped) < 27)
        #expect(try Tool.run("ffmpeg", ["-v", "error", "-i", dropped, "-f", "null", "-"]).stderr.isEmpty)
        let psnr = try #require(result.report.psnrMinimum)
        #expect(psnr >= 45)
    }

    @Test("colour matched to the first clip: seams fall below ΔE 2 where drift made them visible")
    func colorAnchoredToFirstClip() throws {
        let clips = try ChainFixture.make("drift", clips: 6, drift: true)
        let output = Fixtures.shared.scratch("anchored.mp4")
        let result = try Concatenator.concat(clips, to: output, options: ConcatOptions(seam: .drop, colorMatch: .first))
        let seams = result.report.seams
        #expect(seams.count == 5)
        #expect(seams.allSatisfy { $0.framesDropped == 1 })
        // Without correction each seam shows the drift of one more generation on top of the last.
        #expect(seams.allSatisfy { $0.deltaEBefore > 2.5 }, "\(seams.map(\.deltaEBefore))")
        #expect(seams[4].deltaEBefore > 10)
        #expect(seams.allSatisfy { $0.deltaEAfter < 2 }, "\(seams.map(\.deltaEAfter))")
        // No cumulative fade: the last clip's picture is graded like the first clip's, not five generations warmer.
        let frames = try Oracle.decodedFrames(output)
        let reference = try Oracle.decodedFrames(try ChainFixture.make("chain6", clips: 6, drift: false)[5])
        let uncorrected = try Oracle.decodedFrames(clips[5])
        let last = frames[frames.count - 1]
        #expect(last.psnr(against: reference[reference.count - 1]) > last.psnr(against: uncorrected[uncorrected.count - 1]) + 5)
    }

    @Test("mixed sizes, rates and audio are normalised: letterboxed, one rate, audio in sync")
    func normalise() throws {
        let output = Fixtures.shared.scratch("mixed.mp4")
        let inputs = [Samples.path(Samples.t2v480p), Samples.path(Samples.portrait16fps), Samples.path(Samples.audio720p),
                      try Fixtures.shared.path(.audioLongerThanVideo)]
        let result = try Concatenator.concat(inputs, to: output)
        #expect(result.report.mode == .reencode)
        let info = MediaProbe.probe(output)
        #expect(info.video?.width == 832 && info.video?.height == 480)
        #expect(info.video?.frameRate == Rational(30, 1))
        // 5 s + 5.0625 s + 5 s + 3 s at 30 fps.
        #expect(info.video?.frameCount == 150 + 152 + 150 + 90)
        let audio = try #require(info.audio)
        // Silent clips got silence of their exact length; the long audio was trimmed to its picture.
        #expect(abs((audio.duration ?? 0) - (info.video?.duration ?? 0)) < 0.03)
        #expect(try Tool.run("ffmpeg", ["-v", "error", "-i", output, "-f", "null", "-"]).stderr.isEmpty)
        // The portrait clip is pillarboxed, not stretched: its columns at the far left are black.
        let portraitFrame = try FrameExtractor.extract(.index(200), from: output)
        #expect(portraitFrame.pixels[0..<(3 * 100)].allSatisfy { $0 < 20 })
        // The wan2.5 clip's tone starts with its picture: at its first frame there is sound, just before it none.
        let start = Double(150 + 152) / 30
        #expect(try Self.loudness(output, from: start + 0.01, seconds: 0.05) > 0.05)
        #expect(try Self.loudness(output, from: start - 0.06, seconds: 0.05) < 0.001)
    }

    @Test("rotated clips stay upright: copied with their display matrix, or turned when re-encoded")
    func rotation() throws {
        let rotated = try Fixtures.shared.path(.rotated)
        let upright = try FrameExtractor.extract(.last, from: rotated)
        let copied = Fixtures.shared.scratch("rotated-copy.mp4"), reencoded = Fixtures.shared.scratch("rotated-reencode.mp4")
        #expect(try Concatenator.concat([rotated, rotated], to: copied).report.mode == .copy)
        #expect(MediaProbe.probe(copied).video?.rotation == MediaProbe.probe(rotated).video?.rotation)
        #expect(try FrameExtractor.extract(.last, from: copied) == upright)
        let result = try Concatenator.concat([rotated, rotated], to: reencoded, options: ConcatOptions(reencode: .always))
        #expect(result.report.width == upright.width && result.report.height == upright.height)
        #expect(MediaProbe.probe(reencoded).video?.rotation == 0)
        #expect(try FrameExtractor.extract(.last, from: reencoded).psnr(against: upright) > 35)
    }

    @Test("a cross-fade blends N frames at each seam and shortens the output by N per seam")
    func crossfade() throws {
        let clips = try ChainFixture.make("fade", clips: 3, drift: false)
        let output = Fixtures.shared.scratch("fade.mp4")
        let result = try Concatenator.concat(clips, to: output, options: ConcatOptions(crossfadeFrames: 6))
        #expect(result.report.frames == 3 * 31 - 2 * 6)
        #expect(MediaProbe.probe(output).video?.frameCount == 81)
    }

    @Test("one unreadable clip: an error naming it, and no output file left behind")
    func badInput() throws {
        let bad = try Fixtures.shared.file("concat-expired.mp4", bytes: Array("<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code></Error>".utf8))
        let output = Fixtures.shared.scratch("never.mp4")
        #expect { try Concatenator.concat([Samples.path(Samples.t2v480p), bad], to: output) } throws: { error in
            (error as? ConcatError)?.path == bad && "\(error)".contains(bad)
        }
        #expect(!FileManager.default.fileExists(atPath: output))
        #expect(try FileManager.default.contentsOfDirectory(atPath: Fixtures.shared.directory).allSatisfy { !$0.contains("never") })
        #expect(throws: ConcatError.self) {
            try Concatenator.concat([Samples.path(Samples.t2v480p), Samples.path(Samples.hd1080p)], to: output,
                                    options: ConcatOptions(reencode: .never))
        }
    }

    /// RMS level of the mixed-down audio in a window, decoded by ffmpeg.
    static func loudness(_ path: String, from start: Double, seconds: Double) throws -> Double {
        let raw = try Tool.run("ffmpeg", ["-v", "error", "-ss", "\(start)", "-t", "\(seconds)", "-i", path, "-vn", "-ac", "1",
                                          "-f", "f32le", "-"]).stdout
        let samples = raw.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        guard !samples.isEmpty else { return 0 }
        return (samples.reduce(0) { $0 + Double($1 * $1) } / Double(samples.count)).squareRoot()
    }
}
