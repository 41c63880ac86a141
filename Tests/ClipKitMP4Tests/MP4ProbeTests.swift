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
        let x264 = ["-c:v", "libx264", "-pix_fmt", "yuv420p"]
        let bt709 = ["-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709"]
        let untagged = (try? Fixtures.shared.path(.indexAtEnd)) ?? silent
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
            // Full range only in the bitstream (the VUI), and in a colr box too.
            Variant(name: "full-range-untagged.mp4",
                    arguments: pattern + ["-c:v", "libx264", "-pix_fmt", "yuvj420p", "-color_range", "pc"], answered: true),
            Variant(name: "full-range-tagged.mp4",
                    arguments: pattern + ["-c:v", "libx264", "-pix_fmt", "yuvj420p", "-color_range", "pc", "-movflags", "+write_colr"],
                    answered: true),
            // Colour tags in the VUI and a colr box, in the VUI only, in the colr box only; BT.601 tagged.
            Variant(name: "bt709-tagged.mp4", arguments: pattern + x264 + bt709, answered: true),
            Variant(name: "bt709-vui-only.mp4",
                    arguments: pattern + x264 + ["-x264-params", "colormatrix=bt709:colorprim=bt709:transfer=bt709"], answered: true),
            Variant(name: "bt709-colr-only.mp4", arguments: ["-i", untagged, "-c", "copy"] + bt709, answered: true),
            Variant(name: "bt601-tagged.mp4",
                    arguments: pattern + x264 + ["-colorspace", "smpte170m", "-color_primaries", "smpte170m", "-color_trc", "smpte170m"],
                    answered: true),
            Variant(name: "hevc-bt709.mp4",
                    arguments: pattern + ["-c:v", "libx265", "-x265-params", "log-level=error", "-tag:v", "hvc1", "-pix_fmt", "yuv420p"] + bt709,
                    answered: true),
            // Untagged, with less and less to say who wrote it: no x264 SEI, then no encoder tag either.
            Variant(name: "untagged-lavf-only.mp4", arguments: ["-i", untagged, "-c", "copy", "-bsf:v", "filter_units=remove_types=6"],
                    answered: true),
            Variant(name: "untagged-anonymous.mp4",
                    arguments: ["-i", untagged, "-c", "copy", "-bsf:v", "filter_units=remove_types=6", "-fflags", "+bitexact"], answered: true),
            Variant(name: "hevc-hvc1.mp4",
                    arguments: pattern + ["-c:v", "libx265", "-x265-params", "log-level=error", "-tag:v", "hvc1", "-pix_fmt", "yuv420p"],
                    answered: true),
            // Left to FFmpeg: an empty edit (delayed start), non-square pixels, other codecs, two audio
            // tracks, a timecode track, the QuickTime brand.
            Variant(name: "delayed.mp4", arguments: ["-itsoffset", "0.5", "-i", silent, "-c", "copy"], answered: false),
            Variant(name: "anamorphic.mp4", arguments: ["-i", silent, "-c", "copy", "-aspect", "16:9"], answered: false),
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

    /// What each colour variant's `video.color` must say: matrix, range, tagged, basis.
    static let colorExpectations: [String: (ColorMatrix, ColorRange, Bool, VideoColor.Basis)] = [
        "bt709-tagged.mp4": (.bt709, .tv, true, .tag), "bt709-vui-only.mp4": (.bt709, .tv, true, .tag),
        "bt709-colr-only.mp4": (.bt709, .tv, true, .tag), "bt601-tagged.mp4": (.bt601, .tv, true, .tag),
        "hevc-bt709.mp4": (.bt709, .tv, true, .tag), "full-range-tagged.mp4": (.bt601, .pc, false, .x264),
        "full-range-untagged.mp4": (.bt601, .pc, false, .x264), "baseline.mp4": (.bt601, .tv, false, .x264),
        "hevc-hvc1.mp4": (.bt601, .tv, false, .x265), "untagged-lavf-only.mp4": (.bt601, .tv, false, .lavf),
        "untagged-anonymous.mp4": (.bt601, .tv, false, .default),
    ]

    @Test("video.color: the tags ffprobe reads, else BT.601 with the writer that says so",
          arguments: variants.filter { colorExpectations[$0.name] != nil })
    func color(_ variant: Variant) throws {
        let path = Fixtures.shared.directory + "/color-" + variant.name
        try Tool.run("ffmpeg", ["-v", "error", "-y"] + variant.arguments + [path])
        let color = try #require(MP4Probe.probe(path)?.video?.color, "\(variant.name) fell back")
        let (matrix, range, tagged, basis) = Self.colorExpectations[variant.name]!
        #expect(color.matrix == matrix && color.range == range && color.tagged == tagged && color.basis == basis, "\(color)")
        // ffprobe (which decodes) reads the same tags; "unknown" where the file says nothing.
        let names = try Oracle.streamField(path, "color_space,color_primaries,color_transfer").split(separator: ",").map(String.init)
        #expect(names[0] == (tagged ? (matrix == .bt601 ? "smpte170m" : matrix.rawValue) : "unknown"))
        #expect(names[1] == color.primaries ?? "unknown" && names[2] == color.transfer ?? "unknown", "\(names)")
        switch basis {
        case .x264: #expect(color.writer?.hasPrefix("x264 core ") == true)
        case .x265: #expect(color.writer?.hasPrefix("x265 ") == true)
        case .lavf: #expect(color.writer?.hasPrefix("Lavf") == true)
        default: break
        }
        try expectSameAsFFmpeg(path, mustAnswer: true)
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
