import ClipKitCore
import ClipKitMedia
@testable import ClipKitMP4
import ClipKitTestSupport
import Foundation
import Testing

/// The fast path is held to one rule: its answer is FFmpeg's (`MediaProbe.probeWithFFmpeg`) byte for
/// byte in the CLI's JSON, or it gives none.
@Suite("MP4 fast probe")
struct MP4ProbeTests {
    /// Fixtures the fast path must answer itself. The others fall back to FFmpeg, by design:
    /// - fragmented, fragmentedEmptyMoov: samples live in moof boxes (the moov does not count them);
    /// - matroska: not an ISO BMFF file.
    static let answeredFast: Set<Fixture> = [
        .editListCut, .rotated, .variableFrameRate, .audioLongerThanVideo, .hevc, .faststart, .indexAtEnd,
        .singleGOP, .untaggedHD,
    ]

    @Test("every fixture: the same answer as FFmpeg, or none", arguments: Fixture.allCases)
    func fixtures(_ fixture: Fixture) throws {
        let path = try Fixtures.shared.path(fixture)
        try expectSameAsFFmpeg(path, mustAnswer: Self.answeredFast.contains(fixture))
    }

    @Test("the provider-shaped samples are answered, exactly as FFmpeg answers them", arguments: Samples.all)
    func samples(_ name: String) throws {
        try expectSameAsFFmpeg(Samples.path(name), mustAnswer: true)
    }

    @Test("every MP4 under samples/ (audit clips included): the same answer as FFmpeg, or none")
    func allSamples() throws {
        let root = Samples.root + "/samples"
        let paths = (FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String } ?? [])
            .filter { $0.hasSuffix(".mp4") }.sorted().map { root + "/" + $0 }
        #expect(paths.count >= Samples.all.count)
        for path in paths { try expectSameAsFFmpeg(path, mustAnswer: false) }
    }

    /// More shapes than the shared fixtures, made with ffmpeg: each must be answered exactly or left
    /// to FFmpeg; `answered` marks the ones the fast path is expected to model.
    struct Variant: Sendable, CustomStringConvertible {
        var name: String
        var arguments: [String]
        var answered: Bool
        var description: String { name }
    }

    static let variants: [Variant] = {
        let silent = Samples.path(Samples.t2v480p), withAudio = Samples.path(Samples.audio720p)
        let pattern = ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=2"]
        let tone = ["-f", "lavfi", "-i", "sine=duration=2:sample_rate=44100", "-ac", "2"]
        return [
            // Trimmed stream copies: an edit list on the video and on the AAC track.
            Variant(name: "cut-with-audio.mp4", arguments: ["-ss", "1.3", "-t", "2", "-i", withAudio, "-c", "copy"], answered: true),
            Variant(name: "cut-mid-gop.mp4", arguments: ["-ss", "2.05", "-t", "1.5", "-i", silent, "-c", "copy"], answered: true),
            Variant(name: "cut-short.mp4", arguments: ["-ss", "0.77", "-t", "1.1", "-i", withAudio, "-c", "copy"], answered: true),
            Variant(name: "rotated-180.mp4", arguments: ["-i", silent, "-c", "copy", "-metadata:s:v", "rotate=180"], answered: true),
            Variant(name: "rotated-90-faststart.mp4",
                    arguments: ["-i", withAudio, "-c", "copy", "-metadata:s:v", "rotate=90", "-movflags", "+faststart"], answered: true),
            Variant(name: "baseline.mp4", arguments: pattern + ["-c:v", "libx264", "-profile:v", "baseline", "-pix_fmt", "yuv420p"], answered: true),
            Variant(name: "high-422.mp4", arguments: pattern + ["-c:v", "libx264", "-pix_fmt", "yuv422p"], answered: true),
            Variant(name: "no-b-frames-stereo.mp4",
                    arguments: pattern + tone + ["-c:v", "libx264", "-bf", "0", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest"], answered: true),
            // Full range only in the bitstream: FFmpeg's demuxer does not see it either.
            Variant(name: "full-range-untagged.mp4",
                    arguments: pattern + ["-c:v", "libx264", "-pix_fmt", "yuvj420p", "-color_range", "pc"], answered: true),
            Variant(name: "hevc-hvc1.mp4",
                    arguments: pattern + ["-c:v", "libx265", "-x265-params", "log-level=error", "-tag:v", "hvc1", "-pix_fmt", "yuv420p"],
                    answered: true),
            // Left to FFmpeg: an empty edit (delayed start), non-square pixels, full range, other codecs,
            // two audio tracks, a timecode track, the QuickTime brand.
            Variant(name: "delayed.mp4", arguments: ["-itsoffset", "0.5", "-i", silent, "-c", "copy"], answered: false),
            Variant(name: "anamorphic.mp4", arguments: ["-i", silent, "-c", "copy", "-aspect", "16:9"], answered: false),
            Variant(name: "full-range-tagged.mp4",
                    arguments: pattern + ["-c:v", "libx264", "-pix_fmt", "yuvj420p", "-color_range", "pc", "-movflags", "+write_colr"],
                    answered: false),
            Variant(name: "mpeg4-part2.mp4", arguments: pattern + ["-c:v", "mpeg4"], answered: false),
            Variant(name: "two-audio.mp4",
                    arguments: ["-i", withAudio, "-map", "0:v", "-map", "0:a", "-map", "0:a", "-c", "copy"], answered: false),
            Variant(name: "timecode.mp4", arguments: ["-i", silent, "-c", "copy", "-timecode", "01:00:00:00"], answered: false),
            Variant(name: "quicktime.mov", arguments: ["-i", silent, "-c", "copy"], answered: false),
        ]
    }()

    @Test("more shapes: the same answer as FFmpeg, or none", arguments: variants)
    func moreShapes(_ variant: Variant) throws {
        let path = Fixtures.shared.directory + "/variant-" + variant.name
        try Tool.run("ffmpeg", ["-v", "error", "-y"] + variant.arguments + [path])
        try expectSameAsFFmpeg(path, mustAnswer: variant.answered)
        if !variant.answered { #expect(MP4Probe.probe(path) == nil, "\(variant.name) is expected to fall back") }
    }

    @Test("what FFmpeg must report as an error gets no answer: missing, empty, a folder, pages, cut files")
    func badInputs() throws {
        for (path, _) in try Fixtures.shared.badInputs() {
            #expect(MP4Probe.probe(path) == nil, "\(path)")
            #expect(MediaProbe.probe(path).error != nil, "MediaProbe still reports \(path) through FFmpeg")
        }
    }

    @Test("MediaProbe answers ordinary MP4s through the fast path with FFmpeg's answer")
    func wiredIntoMediaProbe() throws {
        let path = Samples.path(Samples.audio720p)
        #expect(MediaProbe.probe(path) == MP4Probe.probe(path))
        #expect(MediaProbe.probe(path) == MediaProbe.probeWithFFmpeg(path))
        // A deep probe decodes, so it never takes the fast path.
        #expect(MediaProbe.probe(path, deep: true).video?.decodedFrames == 120)
    }

    @Test("AudioSpecificConfig: AAC-LC plain and with FFmpeg's explicit no-SBR extension; others fall back")
    func audioSpecificConfig() throws {
        #expect(try AudioSpecificConfig.parse([0x11, 0x90]).sampleRate == 48000)  // LC, 48 kHz, stereo
        let withExtension = try AudioSpecificConfig.parse([0x12, 0x08, 0x56, 0xE5, 0x00])  // LC, 44.1 kHz, mono
        #expect(withExtension.sampleRate == 44100 && withExtension.channels == 1)
        #expect(throws: NotModelled.self) { try AudioSpecificConfig.parse([0x2B, 0x92, 0x08, 0x00]) }  // HE-AAC
        #expect(throws: NotModelled.self) { try AudioSpecificConfig.parse([0x11, 0x80]) }  // channel config 0
    }

    @Test("rotation: quarter-turn matrices as FFmpeg reads them; anything else falls back")
    func rotation() throws {
        let one: Int32 = 0x10000, w: Int32 = 0x4000_0000
        #expect(try MP4Probe.clockwiseRotation([one, 0, 0, 0, one, 0, 0, 0, w]) == 0)
        #expect(try MP4Probe.clockwiseRotation([0, one, 0, -one, 0, 0, 480, 0, w]) == 90)
        #expect(try MP4Probe.clockwiseRotation([-one, 0, 0, 0, -one, 0, 832, 480, w]) == 180)
        #expect(try MP4Probe.clockwiseRotation([0, -one, 0, one, 0, 0, 0, 832, w]) == 270)
        #expect(throws: NotModelled.self) { try MP4Probe.clockwiseRotation([2 * one, 0, 0, 0, one, 0, 0, 0, w]) }
    }

    @Test("av_rescale rounding: to nearest, halves away from zero")
    func rescale() throws {
        #expect(try TrackTiming.rescale(5063, by: 1_000_000, over: 1000) == 5_063_000)
        #expect(try TrackTiming.rescale(1, by: 1, over: 2) == 1)
        #expect(try TrackTiming.rescale(2067, by: 15360, over: 1000) == 31749)  // 31749.12
        #expect(try TrackTiming.rescale(UInt64.max / 2, by: 4, over: 4) == Int64.max)
    }

    /// Compares the fast answer with FFmpeg's in the CLI's JSON encoding, and as values.
    private func expectSameAsFFmpeg(_ path: String, mustAnswer: Bool, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let reference = MediaProbe.probeWithFFmpeg(path)
        let fast: MediaInfo?
        var reason = ""
        do {
            fast = try MP4Probe.read(path)
        } catch {
            fast = nil
            reason = error.reason
        }
        if mustAnswer { #expect(fast != nil, "\(path) fell back: \(reason)", sourceLocation: sourceLocation) }
        guard let fast else { return }
        #expect(try json(fast) == json(reference), "\(path)", sourceLocation: sourceLocation)
        #expect(fast == reference, "\(path)", sourceLocation: sourceLocation)
    }

    private func json(_ info: MediaInfo) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(info), as: UTF8.self)
    }
}
