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

    @Test("what FFmpeg must report as an error gets no answer: text, empty, cut, missing, a folder")
    func badInputs() throws {
        let fixtures = Fixtures.shared
        let sample = try Data(contentsOf: URL(fileURLWithPath: Samples.path(Samples.t2v480p)))
        let indexAtEnd = try Data(contentsOf: URL(fileURLWithPath: try fixtures.path(.indexAtEnd)))
        let xml = #"<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"#
        try FileManager.default.createDirectory(atPath: fixtures.directory + "/mp4-folder.mp4", withIntermediateDirectories: true)
        let paths = [
            try fixtures.file("mp4-expired.mp4", bytes: Array(xml.utf8)),
            try fixtures.file("mp4-empty.mp4", bytes: []),
            try fixtures.file("mp4-cut.mp4", bytes: Array(sample.prefix(sample.count / 2))),
            try fixtures.file("mp4-cut-by-one.mp4", bytes: Array(sample.dropLast())),
            try fixtures.file("mp4-no-index.mp4", bytes: Array(indexAtEnd.prefix(indexAtEnd.count / 2))),
            fixtures.directory + "/mp4-missing.mp4",
            fixtures.directory + "/mp4-folder.mp4",
        ]
        for path in paths {
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

    @Test("in-process cost of probing one sample each way (printed, not asserted: the machine is shared)")
    func speed() {
        let path = Samples.path(Samples.audio720p)
        func average(_ body: () -> Void) -> Duration {
            body()  // warm the page cache and any lazy set-up
            let runs = 50
            return ContinuousClock().measure { for _ in 0..<runs { body() } } / runs
        }
        let fast = average { _ = MP4Probe.probe(path) }
        let ffmpeg = average { _ = MediaProbe.probeWithFFmpeg(path) }
        print("probe \(Samples.audio720p): MP4Probe \(fast), FFmpeg \(ffmpeg) per call")
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
