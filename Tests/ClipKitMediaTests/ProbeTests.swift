import ClipKitCore
import ClipKitMedia
import ClipKitTestSupport
import Foundation
import Testing

@Suite("Probe")
struct ProbeTests {
    @Test("frame count and size match ffprobe -count_frames (a full decode)", arguments: Fixture.allCases)
    func frameCountMatchesFullDecode(_ fixture: Fixture) throws {
        let path = try Fixtures.shared.path(fixture)
        let info = MediaProbe.probe(path)
        #expect(info.error == nil)
        let video = try #require(info.video)
        #expect(video.frameCount == (try Oracle.decodedFrameCount(path)))
        #expect("\(video.width),\(video.height)" == (try Oracle.streamField(path, "width,height")))
        #expect(video.codec == (try Oracle.streamField(path, "codec_name")))
        #expect(video.frameRate.map { "\($0)" } == (try Oracle.streamField(path, "avg_frame_rate")))
    }

    @Test("video duration includes the last frame and matches ffprobe's stream duration",
          arguments: Fixture.allCases.filter { $0 != .matroska })
    func durationMatchesFFprobe(_ fixture: Fixture) throws {
        let path = try Fixtures.shared.path(fixture)
        let duration = try #require(MediaProbe.probe(path).video?.duration)
        let expected = try #require(Double(try Oracle.streamField(path, "duration")))
        #expect(abs(duration - expected) < 0.001)
    }

    @Test("the container duration is ffprobe's, fragmented MP4s (whose mvhd has none) included", arguments: Fixture.allCases)
    func containerDurationMatchesFFprobe(_ fixture: Fixture) throws {
        try expectContainerDurationAsFFprobe(try Fixtures.shared.path(fixture))
    }

    @Test("a fragmented MP4 whose audio outlasts its video: the container lasts as long as the audio")
    func fragmentedWithLongerAudio() throws {
        let path = Fixtures.shared.scratch("frag-long-audio.mp4")
        try Tool.run("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=24:duration=3",
                                "-f", "lavfi", "-i", "sine=duration=4.5", "-c:v", "libx264", "-preset", "veryfast",
                                "-pix_fmt", "yuv420p", "-c:a", "aac", "-movflags", "frag_keyframe+empty_moov", path])
        try expectContainerDurationAsFFprobe(path)
        #expect(abs((MediaProbe.probe(path).duration ?? 0) - 4.583) < 0.001)
    }

    private func expectContainerDurationAsFFprobe(_ path: String) throws {
        let info = MediaProbe.probe(path)
        let duration = try #require(info.duration, "\(path): no container duration")
        let expected = try #require(Double(try Oracle.formatField(path, "duration")))
        // ffprobe prints microseconds with six decimals.
        #expect(abs(duration - expected) < 0.000_001, "\(path)")
    }

    @Test("an edit list's hidden samples are not counted, though the header's nb_frames counts them")
    func editListHiddenSamples() throws {
        let path = try Fixtures.shared.path(.editListCut)
        let info = MediaProbe.probe(path)
        let headerCount = try #require(Int(try Oracle.streamField(path, "nb_frames")))
        #expect(try #require(info.video?.frameCount) < headerCount)
        #expect(info.video?.frameCount == 62)
    }

    @Test("the committed samples have the shapes providers deliver")
    func samples() throws {
        let expected: [(String, Tier, Int, String, Bool)] = [
            (Samples.t2v480p, .p480, 150, "30/1", false), (Samples.portrait16fps, .p480, 81, "16/1", false),
            (Samples.audio720p, .p720, 120, "24/1", true), (Samples.hd1080p, .p1080, 150, "30/1", false),
        ]
        for (name, tier, frames, rate, audio) in expected {
            let info = MediaProbe.probe(Samples.path(name))
            #expect(info.error == nil, "\(name)")
            #expect(info.tier == tier, "\(name)")
            #expect(info.video?.frameCount == frames, "\(name)")
            #expect(info.video?.frameRate?.description == rate, "\(name)")
            #expect((info.audio != nil) == audio, "\(name)")
            #expect(info.video?.profile == "High", "\(name)")
            #expect(info.video?.pixelFormat == "yuv420p", "\(name)")
        }
        let audio = try #require(MediaProbe.probe(Samples.path(Samples.audio720p)).audio)
        #expect(audio.codec == "aac" && audio.sampleRate == 48000 && audio.channels == 2)
    }

    @Test("rotation is reported clockwise, as ffmpeg's autorotate applies it, with display size swapped")
    func rotation() throws {
        let path = try Fixtures.shared.path(.rotated)
        let video = try #require(MediaProbe.probe(path).video)
        let counterClockwise = try Oracle.sideDataRotation(path)
        #expect(counterClockwise != 0)
        #expect(video.rotation == ((-counterClockwise % 360) + 360) % 360)
        #expect(video.displayWidth == video.height && video.displayHeight == video.width)
    }

    @Test("profile and pixel format are read from parameter sets without decoding")
    func parameterSets() throws {
        let hevc = try #require(MediaProbe.probe(try Fixtures.shared.path(.hevc)).video)
        #expect(hevc.pixelFormat == (try Oracle.streamField(try Fixtures.shared.path(.hevc), "pix_fmt")))
        #expect(hevc.profile == "Main 10")
    }

    @Test("resolution tiers by pixel area, any orientation")
    func tiers() {
        #expect(Tier.classify(width: 832, height: 480) == .p480)
        #expect(Tier.classify(width: 480, height: 832) == .p480)
        #expect(Tier.classify(width: 624, height: 624) == .p480)
        #expect(Tier.classify(width: 1280, height: 720) == .p720)
        #expect(Tier.classify(width: 1280, height: 704) == .p720)
        #expect(Tier.classify(width: 1920, height: 1080) == .p1080)
        #expect(Tier.classify(width: 1440, height: 1440) == .p1080)
        #expect(Tier.classify(width: 1632, height: 1248) == .p1080)
        #expect(Tier.classify(width: 1248, height: 1632) == .p1080)
        #expect(Tier.classify(width: 320, height: 240) == nil)
        #expect(Tier.classify(width: 3840, height: 2160) == nil)
    }

    @Test("probing many files in parallel keeps input order")
    func batchOrder() async throws {
        let paths = Samples.all.map(Samples.path) + ["/nonexistent.mp4"] + Samples.all.map(Samples.path)
        let infos = await MediaProbe.probeAll(paths)
        #expect(infos.map(\.path) == paths)
        #expect(infos[4].error?.code == .notFound)
        #expect(infos.filter { $0.error == nil }.count == 8)
    }
}

@Suite("Bad inputs")
struct BadInputTests {
    @Test("each bad input gets its documented code")
    func codes() throws {
        let fixtures = Fixtures.shared
        let cases = try fixtures.badInputs()
        for (path, code) in cases {
            let info = MediaProbe.probe(path)
            #expect(info.error?.code == code, "\(path): \(info.error?.description ?? "no error")")
            #expect(info.error?.message.contains(path) == true, "the message names the file")
        }
        #expect(MediaProbe.probe(fixtures.directory + "/expired.mp4").error?.message.contains("AccessDenied") == true)
    }

    @Test("a truncated clip keeps its header facts; --deep reports how many frames really decode")
    func deepDecode() throws {
        let sample = try Data(contentsOf: URL(fileURLWithPath: Samples.path(Samples.t2v480p)))
        let path = try Fixtures.shared.file("cut-download.mp4", bytes: Array(sample.prefix(sample.count * 2 / 3)))
        let info = MediaProbe.probe(path, deep: true)
        #expect(info.error?.code == .truncated)
        #expect(info.video?.frameCount == 150)
        let decoded = try #require(info.video?.decodedFrames)
        #expect(decoded > 0 && decoded < 150)

        let good = MediaProbe.probe(Samples.path(Samples.t2v480p), deep: true)
        #expect(good.error == nil)
        #expect(good.video?.decodedFrames == 150 && good.video?.decodeErrors == 0)
    }

    @Test("a deep decode reads every GOP, from the first keyframe, in every container", arguments: [
        Fixture.fragmented, .matroska, .indexAtEnd, .editListCut,
    ])
    func deepDecodeEveryGOP(_ fixture: Fixture) throws {
        let path = try Fixtures.shared.path(fixture)
        let info = MediaProbe.probe(path, deep: true)
        #expect(info.error == nil, "\(info.error?.description ?? "")")
        #expect(info.video?.decodedFrames == (try Oracle.decodedFrameCount(path)))
    }

    @Test("a deep decode of a clip longer than one GOP counts every frame")
    func deepDecodeManyGOPs() throws {
        let path = Fixtures.shared.scratch("ten-seconds.mp4")
        try Tool.run("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30:duration=10",
                                "-c:v", "libx264", "-preset", "veryfast", "-g", "60", path])
        let info = MediaProbe.probe(path, deep: true)
        #expect(info.error == nil)
        #expect(info.video?.decodedFrames == 300)
    }
}
