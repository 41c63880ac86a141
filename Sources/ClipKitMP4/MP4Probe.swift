import ClipKitCore
import Foundation

/// Probes a complete, ordinary MP4 — one H.264 or HEVC video track, at most one AAC-LC audio
/// track, a plain index (moov before or after mdat) — in pure Swift from its index, without
/// loading FFmpeg.
///
/// The answer is the `MediaInfo` that `MediaProbe.probe(path)` (FFmpeg's mov demuxer) gives for the
/// same file, field for field, or nil whenever the file has anything this reader does not model
/// exactly: fragments, unusual edit lists, other codecs, a cut download, text instead of media, …
/// nil means "ask FFmpeg", which also reports the errors.
public enum MP4Probe {
    /// Probes a local file; nil when the answer must come from FFmpeg.
    public static func probe(_ path: String) -> MediaInfo? {
        try? read(path)
    }

    /// The same as `probe`, with the reason for falling back, for tests and diagnostics.
    static func read(_ path: String) throws(NotModelled) -> MediaInfo {
        try read(FileSource(path: path), path: path)
    }

    /// Probes the MP4 in `source` (a file, bytes in memory, …); `path` is what the answer calls it.
    /// - Throws: `NotModelled` when the answer must come from FFmpeg.
    package static func read(_ file: some ByteSource, path: String) throws(NotModelled) -> MediaInfo {
        let movie = try MovieBox(try movieBox(in: file), fileSize: file.size)

        let videoTracks = movie.tracks.filter { $0.kind == .video }
        let audioTracks = movie.tracks.filter { $0.kind == .audio }
        // With several candidates FFmpeg's best-stream choice weighs things not modelled here.
        guard videoTracks.count == 1, audioTracks.count <= 1 else { throw NotModelled("not one video and at most one audio track") }

        var timings: [TrackTiming] = []
        for track in movie.tracks {
            let timing = try TrackTiming(track, movieTimescale: movie.timescale)
            // Samples past the end: a cut download that FFmpeg reports as truncated.
            guard timing.endOfData <= file.size else { throw NotModelled("samples past the end of the file") }
            timings.append(timing)
        }
        let videoIndex = movie.tracks.firstIndex { $0.kind == .video }!
        var info = MediaInfo(path: path, fileSize: file.size, container: "mp4")
        // AVFormatContext.duration: av_rescale of the mvhd duration to microseconds.
        let microseconds = try TrackTiming.rescale(movie.duration, by: 1_000_000, over: UInt64(movie.timescale))
        info.duration = Double(microseconds) / Double(1_000_000)
        info.video = try videoInfo(movie.tracks[videoIndex], timings[videoIndex], file: file, encoderTag: movie.encoderTag)
        if let audioIndex = movie.tracks.firstIndex(where: { $0.kind == .audio }) {
            info.audio = try audioInfo(movie.tracks[audioIndex], timings[audioIndex])
        }
        return info
    }

    /// Checks the top-level layout and reads the moov payload (the only part read in full).
    private static func movieBox(in file: some ByteSource) throws(NotModelled) -> ArraySlice<UInt8> {
        let boxes = try file.topLevelBoxes()
        guard let ftyp = boxes.first, ftyp.type == "ftyp", ftyp.payloadSize >= 8 else { throw NotModelled("no leading ftyp") }
        // moof/mvex/sidx mean fragments; uuid, meta and others carry things FFmpeg may apply.
        let known: Set<String> = ["ftyp", "moov", "mdat", "free", "skip", "wide"]
        if let other = boxes.first(where: { !known.contains($0.type) }) { throw NotModelled("top-level '\(other.type)' box") }
        guard boxes.filter({ $0.type == "ftyp" }).count == 1, boxes.contains(where: { $0.type == "mdat" }) else {
            throw NotModelled("unusual top-level layout")
        }
        let movies = boxes.filter { $0.type == "moov" }
        guard movies.count == 1, let moov = movies.first else { throw NotModelled("not exactly one moov") }

        let brand = try file.read(at: ftyp.payloadOffset, count: 4)
        // A QuickTime brand switches FFmpeg to QuickTime rules and the container name to "mov".
        guard brand.allSatisfy({ $0 >= 0x20 && $0 < 0x7f }), !brand.starts(with: Array("qt".utf8)) else {
            throw NotModelled("QuickTime or odd major brand")
        }
        guard moov.payloadSize <= 256 << 20 else { throw NotModelled("moov too large") }
        return try file.read(at: moov.payloadOffset, count: moov.payloadSize)[...]
    }

    private static func videoInfo(_ track: TrackBox, _ timing: TrackTiming, file: some ByteSource, encoderTag: String?) throws(NotModelled) -> VideoInfo {
        guard case .video(let entry) = track.sampleEntry else { throw NotModelled("video track without a video entry") }
        guard let profile = CodecProfile.name(codec: entry.codec, profile: entry.parameterSets.profile) else {
            throw NotModelled("profile \(entry.parameterSets.profile) not in the table")
        }
        let sei = try firstSampleSEI(entry, timing, file: file)
        let color = VideoColor(evidence: StreamColor.evidence(parameterSets: entry.parameterSets, container: entry.containerColor,
                                                              encoderTag: encoderTag, seiTexts: sei))
        guard let pixelFormat = entry.parameterSets.pixelFormatName(fullRange: color.range == .pc) else { throw NotModelled("pixel format") }
        let rotation = try clockwiseRotation(track.matrix)
        let turned = rotation % 180 != 0

        // avg_frame_rate: every sample over the stts total, reduced (av_reduce within INT_MAX).
        let frameRate = Rational(Int(track.timescale) * timing.sampleCount, Int(timing.sampleDurationTotal)).reduced
        guard frameRate.numerator <= Int32.max, frameRate.denominator <= Int32.max else { throw NotModelled("frame rate too fine") }

        let seconds = Double(timing.duration) * (1 / Double(track.timescale))
        // MediaProbe falls back to displayed bytes over duration when the demuxer gives no bit rate.
        var bitRate = Int(timing.bitRate)
        if bitRate <= 0, seconds > 0 { bitRate = Int(Double(timing.displayedBytes * 8) / seconds) }
        return VideoInfo(
            codec: entry.codec, profile: profile, width: entry.width, height: entry.height,
            displayWidth: turned ? entry.height : entry.width, displayHeight: turned ? entry.width : entry.height,
            rotation: rotation, pixelFormat: pixelFormat, frameRate: frameRate, frameCount: timing.displayedSamples,
            duration: timing.duration > 0 ? seconds : nil, bitRate: bitRate > 0 ? bitRate : nil, color: color)
    }

    /// The writer's SEI texts from the first sample: its first kilobyte is read (an encoder's SEI and the
    /// first slice header fit in it), then more only when the units before its first slice run past that
    /// (the FFmpeg path reads the whole packet; both agree). Reading little matters for a remote clip,
    /// where every byte read is a byte fetched.
    private static func firstSampleSEI(_ entry: SampleEntry.VideoEntry, _ timing: TrackTiming, file: some ByteSource) throws(NotModelled) -> [String] {
        let (offset, size) = timing.firstSample
        for count in [1 << 10, 16 << 10, size] {
            let length = min(size, count)
            guard length <= 16 << 20 else { throw NotModelled("first sample too large to look for its SEI") }
            let start = try file.read(at: offset, count: length)
            if let texts = StreamColor.seiTexts(codec: entry.codec, parameterSets: entry.parameterSets, firstAccessUnit: start) {
                return texts
            }
            if length == size { break }
        }
        return []
    }

    private static func audioInfo(_ track: TrackBox, _ timing: TrackTiming) throws(NotModelled) -> AudioInfo {
        guard case .audio(let entry) = track.sampleEntry else { throw NotModelled("audio track without an audio entry") }
        let seconds = Double(timing.duration) * (1 / Double(track.timescale))
        return AudioInfo(codec: "aac", sampleRate: entry.sampleRate, channels: entry.channels,
                         duration: timing.duration > 0 ? seconds : nil)
    }

    /// The clockwise rotation FFmpeg's display matrix gives (av_display_rotation_get, negated and
    /// snapped to quarter turns). Only the four exact quarter-turn matrices are accepted: scaling,
    /// shearing or perspective would change more than the rotation.
    static func clockwiseRotation(_ matrix: [Int32]) throws(NotModelled) -> Int {
        let one: Int32 = 0x10000
        let (a, b, c, d) = (matrix[0], matrix[1], matrix[3], matrix[4])
        let quarterTurns: [(Int32, Int32, Int32, Int32)] = [(one, 0, 0, one), (0, one, -one, 0), (-one, 0, 0, -one), (0, -one, one, 0)]
        guard quarterTurns.contains(where: { $0 == (a, b, c, d) }), matrix[2] == 0, matrix[5] == 0, matrix[8] == 0x4000_0000 else {
            throw NotModelled("display matrix other than a quarter turn")
        }
        let (fa, fb, fc, fd) = (Double(a) / 65536, Double(b) / 65536, Double(c) / 65536, Double(d) / 65536)
        let counterClockwise = -(atan2(fb / hypot(fb, fd), fa / hypot(fa, fc)) * 180 / Double.pi)
        let clockwise = Int((-counterClockwise / 90).rounded()) * 90
        return (clockwise % 360 + 360) % 360
    }
}

/// FFmpeg's profile names (libavcodec/profiles.c) for the profiles the fast path reports; any other
/// number falls back to FFmpeg.
enum CodecProfile {
    static func name(codec: String, profile: Int32) -> String? {
        switch codec {
        case "h264":
            let names: [Int32: String] = [
                66: "Baseline", 66 | 1 << 9: "Constrained Baseline", 77: "Main", 88: "Extended", 100: "High",
                110: "High 10", 122: "High 4:2:2", 244: "High 4:4:4 Predictive",
            ]
            return names[profile]
        case "hevc":
            let names: [Int32: String] = [1: "Main", 2: "Main 10", 3: "Main Still Picture", 4: "Rext"]
            return names[profile]
        default:
            return nil
        }
    }
}
