import ClipKitCore
import Foundation

/// Real clips made with ffmpeg for the tests, once per test run, in a temporary directory.
/// Each case is an edge a provider clip or a user's file can have.
public enum Fixture: String, CaseIterable, Sendable, CustomStringConvertible {
    /// A stream-copied cut: an edit list starts mid-GOP and hides samples.
    case editListCut = "cut.mp4"
    /// A display matrix asking for a rotation.
    case rotated = "rotated.mp4"
    /// Variable frame rate: 30 fps, then 15 fps, then 30 fps.
    case variableFrameRate = "vfr.mp4"
    /// Fragmented MP4 with an empty moov: no sample count in the header at all.
    case fragmentedEmptyMoov = "frag-empty-moov.mp4"
    /// Fragmented MP4 whose moov holds the first fragment's samples only.
    case fragmented = "frag.mp4"
    /// AAC audio 1.5 s longer than the video.
    case audioLongerThanVideo = "long-audio.mp4"
    /// HEVC, 10-bit.
    case hevc = "hevc.mp4"
    /// Index (moov) at the front.
    case faststart = "faststart.mp4"
    /// Index (moov) at the end, as a plain ffmpeg or camera recording writes it.
    case indexAtEnd = "index-at-end.mp4"
    /// Matroska: no MP4 index.
    case matroska = "clip.mkv"
    /// 1080p, one GOP for the whole clip, B-frames: the worst case for finding the last frame.
    case singleGOP = "single-gop.mp4"
    /// Untagged HD, as ffmpeg writes it (BT.601, no tags): read with BT.601, not by its size.
    case untaggedHD = "untagged-hd.mp4"
    /// One GOP of B-pyramids (reference B-pictures), 4 reference frames, weighted prediction and 3
    /// slices a picture: the reference lists of every slice decide which pictures the last one needs.
    case bPyramid = "b-pyramid.mp4"
    /// Intra refresh: no IDR after the first picture; the other keyframes are only recovery points.
    case intraRefresh = "intra-refresh.mp4"

    public var description: String { rawValue }

    /// ffmpeg arguments (after `-y`) that make this fixture, given a source clip.
    fileprivate func arguments(source: String) -> [String] {
        let x264 = ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"]
        let pattern = { (size: String, rate: Int, seconds: Double) in
            ["-f", "lavfi", "-i", "testsrc2=size=\(size):rate=\(rate):duration=\(seconds)"]
        }
        switch self {
        case .editListCut: return ["-ss", "1.3", "-t", "2", "-i", source, "-c", "copy"]
        case .rotated: return ["-i", source, "-c", "copy", "-metadata:s:v", "rotate=90"]
        case .variableFrameRate:
            return ["-f", "lavfi", "-i", "testsrc2=s=320x240:r=30:d=3,setpts='if(lt(N,30),N/30,if(lt(N,60),1+(N-30)/15,3+(N-60)/30))/TB'",
                    "-vsync", "vfr"] + x264
        case .fragmentedEmptyMoov: return ["-i", source, "-c", "copy", "-movflags", "frag_keyframe+empty_moov"]
        case .fragmented: return pattern("320x240", 30, 5) + x264 + ["-g", "30", "-movflags", "frag_keyframe"]
        case .audioLongerThanVideo:
            return pattern("320x240", 24, 3) + ["-f", "lavfi", "-i", "sine=duration=4.5"] + x264 + ["-c:a", "aac"]
        case .hevc:
            return pattern("320x240", 30, 3) + ["-c:v", "libx265", "-x265-params", "log-level=error", "-pix_fmt", "yuv420p10le"]
        case .faststart: return pattern("320x240", 25, 3) + x264 + ["-movflags", "+faststart"]
        case .indexAtEnd: return pattern("320x240", 25, 3) + x264
        case .matroska: return pattern("320x240", 25, 3) + x264
        case .singleGOP: return pattern("1920x1080", 30, 2) + x264 + ["-g", "1000", "-colorspace", "bt709"]
        case .untaggedHD: return pattern("1280x720", 24, 1) + x264
        case .bPyramid:
            return pattern("320x240", 30, 4) + ["-c:v", "libx264", "-preset", "medium", "-pix_fmt", "yuv420p", "-g", "1000",
                                                "-x264-params", "ref=4:bframes=5:b-pyramid=normal:weightp=2:slices=3"]
        case .intraRefresh:
            return pattern("320x240", 30, 3) + x264 + ["-x264-params", "intra-refresh=1:keyint=30"]
        }
    }
}

/// Makes fixtures on first use and hands out their paths; safe to call from parallel tests.
public final class Fixtures: @unchecked Sendable {
    public static let shared = Fixtures()

    public let directory: String
    private let lock = NSLock()
    private var made: Set<String> = []
    private var madeBadInputs: [(path: String, code: MediaProblem.Code)]?

    private init() {
        directory = NSTemporaryDirectory() + "clipkit-fixtures-\(getpid())"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// The path of a fixture, made with ffmpeg the first time it is asked for.
    public func path(_ fixture: Fixture) throws -> String {
        try ffmpegOutput(fixture.rawValue, fixture.arguments(source: Samples.path(Samples.t2v480p)))
    }

    /// `name` in the fixtures directory, written by ffmpeg with `arguments` (before the output path) the
    /// first time any test asks for it; the others wait for it.
    public func ffmpegOutput(_ name: String, _ arguments: [String]) throws -> String {
        let path = directory + "/" + name
        try lock.withLock {
            guard !made.contains(path) else { return }
            try Tool.run("ffmpeg", ["-v", "error", "-y"] + arguments + [path])
            made.insert(path)
        }
        return path
    }

    /// A file with the given bytes, for bad-input tests.
    public func file(_ name: String, bytes: [UInt8]) throws -> String {
        let path = directory + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Every kind of input a probe must refuse, with the code it must give: missing, empty, a folder,
    /// an expired URL's XML page, an HTML page, noise, a cut download, a cut index, audio only.
    /// Made once; tests in parallel share them.
    public func badInputs() throws -> [(path: String, code: MediaProblem.Code)] {
        let indexAtEndPath = try path(.indexAtEnd)
        return try lock.withLock {
            if let made = madeBadInputs { return made }
            madeBadInputs = try makeBadInputs(indexAtEnd: indexAtEndPath)
            return madeBadInputs!
        }
    }

    private func makeBadInputs(indexAtEnd indexAtEndPath: String) throws -> [(path: String, code: MediaProblem.Code)] {
        let sample = try Data(contentsOf: URL(fileURLWithPath: Samples.path(Samples.t2v480p)))
        let indexAtEnd = try Data(contentsOf: URL(fileURLWithPath: indexAtEndPath))
        let xml = #"<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"#
        try FileManager.default.createDirectory(atPath: directory + "/folder.mp4", withIntermediateDirectories: true)
        let audioOnly = directory + "/audio-only.m4a"
        try Tool.run("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "sine=duration=1", "-c:a", "aac", audioOnly])
        return [
            (directory + "/missing.mp4", .notFound),
            (try file("empty.mp4", bytes: []), .empty),
            (directory + "/folder.mp4", .unreadable),
            (try file("expired.mp4", bytes: Array(xml.utf8)), .notMedia),
            (try file("page.mp4", bytes: Array("<!DOCTYPE html><html><body>Not found</body></html>".utf8)), .notMedia),
            (try file("noise.mp4", bytes: (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7919 &+ 13) }), .notMedia),
            (try file("truncated.mp4", bytes: Array(sample.prefix(sample.count / 2))), .truncated),
            (try file("cut-by-one.mp4", bytes: Array(sample.dropLast())), .truncated),
            (try file("no-index.mp4", bytes: Array(indexAtEnd.prefix(indexAtEnd.count / 2))), .truncated),
            (audioOnly, .noVideo),
        ]
    }

    /// A voice track for s2v, made with ffmpeg the first time: `seconds` of sound, as MP3 (LAME,
    /// 44.1 kHz mono: a tone, whose header overstates its length by the encoder's padding) or WAV
    /// (16 kHz mono 16-bit pink noise, exact to the sample).
    public func voice(seconds: Double, format: VoiceFormat) throws -> String {
        let source = switch format {
        case .mp3: ["-f", "lavfi", "-i", "sine=frequency=330:sample_rate=44100:duration=\(seconds)", "-c:a", "libmp3lame", "-b:a", "96k"]
        case .wav: ["-f", "lavfi", "-i", "anoisesrc=d=\(seconds):c=pink:r=16000:a=0.2", "-c:a", "pcm_s16le"]
        }
        return try ffmpegOutput("voice-\(seconds)s.\(format.rawValue)", source)
    }

    /// A fresh scratch path (not created) in the fixture directory.
    public func scratch(_ name: String) -> String {
        directory + "/\(UUID().uuidString.prefix(8))-\(name)"
    }

    /// `executable` copied alone into a new scratch directory, by `cp`: a copy written by this process
    /// leaves its write descriptor, for a moment, in any child another test spawns meanwhile, and running
    /// the copy then fails with "Text file busy" (CI-20).
    public func executableAlone(_ executable: String, name: String) throws -> String {
        let folder = scratch(name)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let copy = folder + "/" + URL(fileURLWithPath: executable).lastPathComponent
        try Tool.run("/bin/cp", [executable, copy])
        return copy
    }
}

/// The sound formats `Fixtures.voice` makes.
public enum VoiceFormat: String, Sendable, CaseIterable {
    case mp3, wav
}

/// The clips committed under samples/.
public enum Samples {
    public static let t2v480p = "wan22-t2v-480p-832x480-30fps.mp4"
    public static let portrait16fps = "wan22-a14b-480x832-16fps.mp4"
    public static let audio720p = "wan25-720p-1280x720-24fps-audio.mp4"
    public static let hd1080p = "wan22-1080p-1920x1080-30fps.mp4"
    public static let all = [t2v480p, portrait16fps, audio720p, hd1080p]

    /// The repository root, found from this source file's location.
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    public static func path(_ name: String) -> String { root + "/samples/" + name }
}
