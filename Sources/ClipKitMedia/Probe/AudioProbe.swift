import CFFmpeg
import ClipKitCore
import Foundation

extension MediaProbe {
    /// Probes a sound file (MP3, WAV, AAC, …, or a clip's audio track) for its exact length: an s2v
    /// clip and its bill follow the voice sent. Never throws: problems are in `error`, `noAudio` when
    /// the file has no audio stream.
    ///
    /// The length is counted by decoding every sample, because headers guess: a 3.40 s voice encoded
    /// by LAME has a header duration of 3.448 s (the encoder's delay and padding, which the decoder
    /// drops), more than a frame of video too long. `audio.duration` is that decoded length;
    /// `duration` stays the container's, as `probe` reports it. Blocks (library users call the `async` one).
    package static func probeAudio(_ path: String) -> MediaInfo {
        var info = MediaInfo(path: path)
        do {
            let (input, sniff) = try openInput(path)
            let isMOV = String(cString: input.context.pointee.iformat.pointee.name).hasPrefix("mov,")
            info.container = containerName(input, isMOV: isMOV)
            info.fileSize = sniff?.size ?? fileSize(input)
            if let cut = sniff?.cutBox {
                throw MediaProblem(.truncated, "\(path): file is cut short inside its '\(cut)' box (incomplete download?)")
            }
            // Raw audio formats (MP3, ADTS) have no header listing their streams.
            try? input.findStreamInfo()
            let duration = input.context.pointee.duration
            info.duration = duration > 0 ? Double(duration) / Double(AV_TIME_BASE) : nil
            guard let index = input.bestStream(AVMEDIA_TYPE_AUDIO) else {
                throw MediaProblem(.noAudio, "\(path): no audio stream")
            }
            var audio = audioInfo(input.stream(index))
            input.selectOnly(index)
            let decoder = try Decoder(for: input, stream: index, threads: 1)
            var samples = 0
            try AudioTrackReader.eachFrame(input, stream: index, decoder: decoder) { samples += Int($0.pointer.pointee.nb_samples) }
            let rate = Int(decoder.context.pointee.sample_rate)
            guard samples > 0, rate > 0 else { throw MediaProblem(.noAudio, "\(path): the audio stream decodes to no sound") }
            audio.duration = Double(samples) / Double(rate)
            info.audio = audio
        } catch let problem as MediaProblem {
            info.error = problem
        } catch {
            info.error = MediaProblem(.unreadable, "\(path): cannot decode its audio: \(error)")
        }
        return info
    }
}

/// A sound decoded for writing into a new clip: interleaved float samples (−1…1).
public struct DecodedAudio: Sendable, Hashable {
    public var samples: [Float]
    public var sampleRate: Int
    public var channels: Int

    /// Seconds of sound.
    public var duration: Double { Double(samples.count / channels) / Double(sampleRate) }

    /// Decodes the best audio stream of `path` from its first sample, resampled to `sampleRate` and
    /// `channels` (what `VideoWriter`'s AAC track takes by default).
    /// - Throws: `MediaProblem` (`noAudio` when there is none, or why the file cannot be read),
    ///   `FFmpegError` naming the call that failed. Blocks (library users call `decode`).
    package init(contentsOf path: String, sampleRate: Int = 48_000, channels: Int = 2) throws {
        let (input, _) = try MediaProbe.openInput(path)
        try? input.findStreamInfo()
        guard let index = input.bestStream(AVMEDIA_TYPE_AUDIO) else { throw MediaProblem(.noAudio, "\(path): no audio stream") }
        samples = try AudioTrackReader.samples(input, stream: index, rate: sampleRate, channels: channels)
        self.sampleRate = sampleRate
        self.channels = channels
    }
}
