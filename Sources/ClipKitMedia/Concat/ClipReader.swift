import CFFmpeg
import ClipKitCore

/// One decoded picture of a clip with its display time in seconds from the clip's first frame.
struct TimedFrame {
    let frame: Frame
    let time: Double
}

/// Decodes a clip's video in display order, frame by frame (edit-list-hidden frames never appear).
final class ClipReader {
    let path: String
    let input: InputFile
    let streamIndex: Int
    private let decoder: Decoder
    private let packet = Packet()
    private var ready: [TimedFrame] = []
    private var startTimestamp: Int64?
    private var drained = false
    private var errors = 0
    let timeBase: Double

    init(path: String) throws {
        self.path = path
        (input, _) = try MediaProbe.openInput(path)
        guard let index = input.bestStream(AVMEDIA_TYPE_VIDEO) else { throw MediaProblem(.noVideo, "\(path): no video stream") }
        streamIndex = index
        input.selectOnly(index)
        decoder = try Decoder(for: input, stream: index)
        timeBase = av_q2d(input.stream(index).pointee.time_base)
    }

    var rotation: Int { MediaProbe.clockwiseRotation(input.stream(streamIndex)) }

    /// The next displayed frame, or nil at the end.
    /// - Throws: `FFmpegError` for read errors; corrupt packets are skipped as the decoder does.
    func next() throws -> TimedFrame? {
        while ready.isEmpty, !drained {
            let more = try input.read(into: packet)
            if more, packet.streamIndex != streamIndex { continue }
            let scratch = Frame()
            try decoder.decode(more ? packet : nil, into: scratch, errors: &errors) { decoded in
                let timestamp = decoded.timestamp
                if startTimestamp == nil { startTimestamp = timestamp }
                ready.append(TimedFrame(frame: decoded.clone(), time: Double(timestamp - startTimestamp!) * timeBase))
            }
            if !more { drained = true }
        }
        return ready.isEmpty ? nil : ready.removeFirst()
    }
}

/// Decodes a clip's audio track (if any) to interleaved float at a fixed rate and channel count.
enum AudioTrackReader {
    /// The clip's audio from its video's first frame, or nil when it has no audio stream.
    static func read(_ path: String, rate: Int, channels: Int) throws -> [Float]? {
        let (input, _) = try MediaProbe.openInput(path)
        guard let index = input.bestStream(AVMEDIA_TYPE_AUDIO) else { return nil }
        // Audio that starts later than time zero (an edit list or a delayed track) gets leading silence.
        let stream = input.stream(index)
        var leadingSilence = 0
        if stream.pointee.start_time != cffmpeg_nopts_value(), stream.pointee.start_time > 0 {
            leadingSilence = Int(Double(stream.pointee.start_time) * av_q2d(stream.pointee.time_base) * Double(rate))
        }
        return [Float](repeating: 0, count: leadingSilence * channels) + (try samples(input, stream: index, rate: rate, channels: channels))
    }

    /// Every sample of stream `index`, resampled; no silence added for a late start.
    static func samples(_ input: InputFile, stream index: Int, rate: Int, channels: Int) throws -> [Float] {
        input.selectOnly(index)
        let decoder = try Decoder(for: input, stream: index, threads: 1)
        let resampler = try Resampler(from: decoder, toRate: rate, channels: channels)
        var samples: [Float] = []
        try eachFrame(input, stream: index, decoder: decoder) { resampler.convert($0, into: &samples) }
        resampler.convert(nil, into: &samples)
        return samples
    }

    /// Decodes stream `index` to the end, handing each frame to `body`. The decoder drops what the
    /// container marks as padding (an MP3's encoder delay, AAC priming), so the frames hold the sound.
    static func eachFrame(_ input: InputFile, stream index: Int, decoder: Decoder, _ body: (Frame) throws -> Void) throws {
        let packet = Packet(), frame = Frame()
        var errors = 0
        while true {
            let more = try input.read(into: packet)
            if more, packet.streamIndex != index { continue }
            try decoder.decode(more ? packet : nil, into: frame, errors: &errors, body)
            if !more { break }
        }
    }
}
