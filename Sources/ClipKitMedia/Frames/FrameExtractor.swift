import CFFmpeg
import ClipKitCore
import Foundation

/// Which displayed frame to extract.
public enum FramePosition: Sendable, Hashable, CustomStringConvertible {
    case first
    /// The last displayed frame: what a full decode shows last.
    case last
    /// The Nth displayed frame, counting from 0.
    case index(Int)
    /// The frame on screen at this many seconds from the start.
    case time(Double)

    public var description: String {
        switch self {
        case .first: "first frame"
        case .last: "last frame"
        case .index(let n): "frame \(n)"
        case .time(let t): "frame at \(t)s"
        }
    }
}

/// The requested frame does not exist in this clip (an index or time past its end).
public struct FrameRangeError: ClipKitError {
    /// What went wrong, for a program to switch on.
    public enum Code: String, Sendable, Hashable, Codable, CaseIterable {
        /// No frame has this index (negative, or past the last frame).
        case noSuchIndex
        /// No frame is shown at this time (negative, or past the end).
        case noSuchTime
    }

    public let code: Code
    public let description: String
}

/// A frame as RGB, and the colour conversion that made it.
public struct ExtractedFrame: Sendable {
    public var image: RGBImage
    /// The stream's colour as `probe` reports it, with the matrix actually used.
    public var color: VideoColor
}

/// Extracts single displayed frames exactly, decoding as little as possible.
public enum FrameExtractor {
    /// Decodes the frame at `position` and converts it to upright RGB, blocking the calling thread
    /// (library users call the `async` one).
    /// - Parameters:
    ///   - autorotate: apply the display rotation as players and ffmpeg do.
    ///   - matrix: the YUV → RGB matrix; `.auto` takes the stream's tag, or for an untagged stream the
    ///     matrix `VideoColor(evidence:)` decides (what `probe` reports as `video.color`).
    /// - Throws: `MediaProblem` for unreadable inputs, `FrameRangeError` for a position past the end,
    ///   `FFmpegError` naming the failing call and file.
    package static func extract(_ position: FramePosition, from path: String, autorotate: Bool = true,
                               matrix: MatrixChoice = .auto) throws -> RGBImage {
        try extractFrame(position, from: path, autorotate: autorotate, matrix: matrix).image
    }

    /// `extract`, also saying which colour conversion it used.
    package static func extractFrame(_ position: FramePosition, from path: String, autorotate: Bool = true,
                                    matrix: MatrixChoice = .auto) throws -> ExtractedFrame {
        let (input, sniff) = try MediaProbe.openInput(path)
        guard let index = input.bestStream(AVMEDIA_TYPE_VIDEO) else {
            throw MediaProblem(.noVideo, "\(path): no video stream")
        }
        input.selectOnly(index)
        // One thread per core: the pictures a last frame needs form a chain, so the extra frame thread of
        // FFmpeg's automatic count (cores + 1) only adds hand-over latency (7% slower on 2 cores).
        let decoder = try Decoder(for: input, stream: index, threads: min(ProcessInfo.processInfo.activeProcessorCount, 16))
        let frame: Frame
        switch position {
        case .last:
            frame = try lastFrame(input, stream: index, decoder: decoder, indexUsable: sniff?.hasMoof != true)
        case .first:
            frame = try nthFrame(0, input, stream: index, decoder: decoder, path: path)
        case .index(let n):
            guard n >= 0 else { throw FrameRangeError(code: .noSuchIndex, description: "frame index must be 0 or more, not \(n)") }
            frame = try nthFrame(n, input, stream: index, decoder: decoder, path: path)
        case .time(let seconds):
            frame = try frameAt(seconds, input, stream: index, decoder: decoder, path: path)
        }
        let color = matrix.apply(to: try MediaProbe.color(path) ?? VideoColor(evidence: ColorEvidence()))
        let image = try rgb(frame, color: color)
        let upright = autorotate ? image.rotated(clockwise: MediaProbe.clockwiseRotation(input.stream(index))) : image
        return ExtractedFrame(image: upright, color: color)
    }

    /// The last displayed frame. Only the last group of pictures that holds a shown frame is read, and
    /// in it only the pictures the shown-last one depends on are decoded: for H.264 the slice headers
    /// say which (`H264References`); otherwise every picture that others may reference.
    private static func lastFrame(_ input: InputFile, stream index: Int, decoder: Decoder, indexUsable: Bool) throws -> Frame {
        if indexUsable, let keyframe = lastUsefulKeyframe(input.stream(index)) {
            try input.seek(stream: index, to: keyframe)
        }
        let gop = try lastGroupOfPictures(input, stream: index)
        guard let target = gop.indices.filter({ !gop[$0].isDiscarded }).max(by: { gop[$0].pts < gop[$1].pts }) else {
            throw MediaProblem(.truncated, "\(input.path): no displayable video packet found")
        }
        let chain = withExtendedLifetime(gop) {  // the packets own the bytes the model reads
            H264References(stream: input.stream(index))?.picturesNeeded(toDecode: target, packets: gop.map(\.bytes))
        }
        // A plan that cannot produce the target (damaged data) hands over to the next, broader one.
        let plans: [DecodePlan] = (chain.map { [.only($0)] } ?? []) + [.referencesAndTarget, .everything]
        for (attempt, plan) in plans.enumerated() {
            if attempt > 0 { avcodec_flush_buffers(decoder.context) }
            if let frame = try decodeShownLast(gop, target: target, decoder: decoder, plan: plan) { return frame }
        }
        // Keyframes that are only recovery points (intra refresh) show nothing decoded from the last one
        // alone: decode the stream from its start.
        let shownLast = gop[target].pts
        try input.rewind()
        avcodec_flush_buffers(decoder.context)
        var found: Frame?
        try decodeFromCurrentPosition(input, stream: index, decoder: decoder) { frame in
            if frame.timestamp == shownLast { found = frame.clone() }
            return true
        }
        if let found { return found }
        throw MediaProblem(.truncated, "\(input.path): the last frame could not be decoded (corrupt data)")
    }

    /// Which packets of the last group a decode sends, from the narrowest to the broadest.
    private enum DecodePlan {
        /// Only these packets: the target's reference chain.
        case only(Set<Int>)
        /// The target and every picture marked as a possible reference (the decoder skips the rest).
        case referencesAndTarget
        /// Every packet.
        case everything
    }

    /// From the index: the timestamp of the keyframe that starts the group holding the last shown sample.
    private static func lastUsefulKeyframe(_ stream: UnsafeMutablePointer<AVStream>) -> Int64? {
        var i = avformat_index_get_entries_count(stream) - 1
        while i >= 0, let entry = avformat_index_get_entry(stream, i), Int32(entry.pointee.flags) & AVINDEX_DISCARD_FRAME != 0 { i -= 1 }
        while i >= 0, let entry = avformat_index_get_entry(stream, i) {
            if Int32(entry.pointee.flags) & AVINDEX_KEYFRAME != 0 { return entry.pointee.timestamp }
            i -= 1
        }
        return nil
    }

    /// Reads to the end, keeping the packets of the last group of pictures that has a shown frame
    /// (an edit list may hide the whole final group).
    private static func lastGroupOfPictures(_ input: InputFile, stream index: Int) throws -> [Packet] {
        var current: [Packet] = [], previous: [Packet] = []
        let packet = Packet()
        while try input.read(into: packet) {
            guard packet.streamIndex == index else { continue }
            if packet.isKeyframe, !current.isEmpty {
                if current.contains(where: { !$0.isDiscarded }) { previous = current }
                current = []
            }
            current.append(packet.clone())
        }
        return current.contains(where: { !$0.isDiscarded }) ? current : previous
    }

    private static func decodeShownLast(_ packets: [Packet], target: Int, decoder: Decoder, plan: DecodePlan) throws -> Frame? {
        let frame = Frame()
        var best: Frame?
        var errors = 0
        let keep: (Frame) -> Void = { decoded in
            if best == nil || decoded.timestamp >= best!.timestamp { best = decoded.clone() }
        }
        for (i, packet) in packets.enumerated() {
            switch plan {
            case .only(let needed):
                guard needed.contains(i) else { continue }
            case .referencesAndTarget:
                decoder.skip = i == target ? AVDISCARD_DEFAULT : AVDISCARD_NONREF
            case .everything:
                break
            }
            try decoder.decode(packet, into: frame, errors: &errors, keep)
        }
        decoder.skip = AVDISCARD_DEFAULT
        try decoder.decode(nil, into: frame, errors: &errors, keep)
        guard let best, best.timestamp == packets[target].pts || packets[target].pts == cffmpeg_nopts_value() else { return nil }
        // Pictures left out by a wrong model would show as decode errors (a missing reference): take the next plan.
        if case .only = plan, errors > 0 { return nil }
        return best
    }

    /// The nth displayed frame (0-based), decoding from the start.
    private static func nthFrame(_ n: Int, _ input: InputFile, stream index: Int, decoder: Decoder, path: String) throws -> Frame {
        var shown = 0
        var found: Frame?
        try decodeFromCurrentPosition(input, stream: index, decoder: decoder) { frame in
            if shown == n { found = frame.clone() }
            shown += 1
            return found == nil
        }
        guard let found else {
            throw FrameRangeError(code: .noSuchIndex, description: "\(path) has \(shown) frames; there is no frame \(n) (frames count from 0)")
        }
        return found
    }

    /// The frame on screen `seconds` after the first frame: the last one whose timestamp is not later.
    private static func frameAt(_ seconds: Double, _ input: InputFile, stream index: Int, decoder: Decoder, path: String) throws -> Frame {
        let stream = input.stream(index)
        let timeBase = av_q2d(stream.pointee.time_base)
        let start = stream.pointee.start_time != cffmpeg_nopts_value() ? stream.pointee.start_time : 0
        let duration = stream.pointee.duration > 0 ? Double(stream.pointee.duration) * timeBase : nil
        guard seconds >= 0, duration.map({ seconds < $0 }) ?? true else {
            throw FrameRangeError(code: .noSuchTime, description: "\(path) is \(duration.map { "\($0)" } ?? "?") s long; there is no frame at \(seconds) s")
        }
        let target = start + Int64((seconds / timeBase).rounded(.down))
        try input.seek(stream: index, to: target)
        var found: Frame?
        try decodeFromCurrentPosition(input, stream: index, decoder: decoder) { frame in
            guard frame.timestamp <= target else { return false }
            found = frame.clone()
            return true
        }
        guard let found else { throw FrameRangeError(code: .noSuchTime, description: "\(path): no frame is shown at \(seconds) s") }
        return found
    }

    /// Decodes from wherever the input is, handing frames to `body` until it returns false or the stream ends.
    private static func decodeFromCurrentPosition(_ input: InputFile, stream index: Int, decoder: Decoder,
                                                  _ body: (Frame) throws -> Bool) throws {
        let packet = Packet(), frame = Frame()
        var errors = 0, wantMore = true
        while wantMore {
            try Task.checkCancellation()  // between frames: a long decode from the start stops when its task is cancelled
            let more = try input.read(into: packet)
            if more, packet.streamIndex != index { continue }
            try decoder.decode(more ? packet : nil, into: frame, errors: &errors) { decoded in
                if wantMore { wantMore = try body(decoded) }
            }
            if !more { break }
        }
    }

    /// Converts a decoded picture to RGB with the stream's matrix and range (a yuvj pixel format is
    /// full range whatever the tags say).
    /// - Throws: `FFmpegError` when swscale cannot convert the picture.
    static func rgb(_ frame: Frame, color: VideoColor) throws(FFmpegError) -> RGBImage {
        let scaler = try Scaler(from: (frame.width, frame.height, frame.pixelFormat), sourceMatrix: Scaler.coefficients(color.matrix),
                            sourceFullRange: color.range == .pc || Scaler.isFullRange(frame),
                            to: (frame.width, frame.height, AV_PIX_FMT_RGB24), targetFullRange: true)
        return RGBImage(rgbFrame: try scaler.convert(frame))
    }
}
