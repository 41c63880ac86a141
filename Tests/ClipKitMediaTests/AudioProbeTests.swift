import ClipKitCore
import ClipKitMedia
import ClipKitTestSupport
import Foundation
import Testing

/// The voice an s2v clip follows: its length must be the length a player plays, to the sample.
@Suite("audio probe (s2v voices)")
struct AudioProbeTests {
    struct Voice: Sendable, CustomTestStringConvertible {
        var seconds: Double
        var format: VoiceFormat
        var testDescription: String { "\(seconds) s \(format.rawValue)" }
    }

    static let voices = [Voice(seconds: 3.4, format: .mp3), Voice(seconds: 10.23, format: .wav),
                         Voice(seconds: 10.23, format: .mp3), Voice(seconds: 3.4, format: .wav)]

    @Test("the decoded length is the voice's, as ffmpeg decodes it, to a millisecond", arguments: voices)
    func decodedLength(_ voice: Voice) throws {
        let path = try Fixtures.shared.voice(seconds: voice.seconds, format: voice.format)
        let info = MediaProbe.probeAudio(path)
        #expect(info.error == nil)
        let audio = try #require(info.audio)
        #expect(audio.codec == (voice.format == .mp3 ? "mp3" : "pcm_s16le"))
        let seconds = try #require(audio.duration)
        #expect(abs(seconds - voice.seconds) < 0.001, "\(seconds) s")
        #expect(abs(seconds - (try Oracle.decodedAudioSeconds(path))) < 0.001)
        #expect(info.video == nil)
    }

    @Test("an MP3's header overstates its length by more than a frame: why the probe decodes")
    func mp3HeaderIsNotTheLength() throws {
        let path = try Fixtures.shared.voice(seconds: 3.4, format: .mp3)
        let header = try #require(Double(try Oracle.formatField(path, "duration")))
        #expect(header - 3.4 > 1.0 / 30, "ffprobe's duration \(header) s")
        #expect(abs(try #require(MediaProbe.probeAudio(path).audio?.duration) - 3.4) < 0.001)
        // The clip probe keeps refusing a file without video, as before.
        #expect(MediaProbe.probe(path).error?.code == .noVideo)
    }

    @Test("a clip's sound can be probed too; a silent clip has no audio; bad inputs keep their codes")
    func clipsAndBadInputs() throws {
        let long = try Fixtures.shared.path(.audioLongerThanVideo)
        #expect(abs(try #require(MediaProbe.probeAudio(long).audio?.duration) - (try Oracle.decodedAudioSeconds(long))) < 0.001)
        let silent = MediaProbe.probeAudio(Samples.path(Samples.t2v480p))
        #expect(silent.error?.code == .noAudio)
        #expect(silent.error?.message.contains(Samples.t2v480p) == true)
        for (path, code) in try Fixtures.shared.badInputs() where code != .noVideo {
            #expect(MediaProbe.probeAudio(path).error?.code == code, "\(path)")
        }
    }

    @Test("decoded for muxing: 48 kHz stereo samples as long as the voice")
    func decodedSamples() throws {
        let path = try Fixtures.shared.voice(seconds: 10.23, format: .wav)
        let decoded = try DecodedAudio(contentsOf: path)
        #expect(decoded.sampleRate == 48_000 && decoded.channels == 2)
        #expect(abs(decoded.duration - 10.23) < 0.001)
        #expect(decoded.samples.contains { abs($0) > 0.01 }, "it holds the sound, not silence")
        #expect(throws: MediaProblem.self) { try DecodedAudio(contentsOf: Samples.path(Samples.t2v480p)) }
    }
}
