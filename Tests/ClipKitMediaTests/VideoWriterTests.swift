import ClipKitCore
import ClipKitMedia
import ClipKitTestSupport
import Foundation
import Testing

@Suite("VideoWriter")
struct VideoWriterTests {
    @Test("writes an H.264 MP4 within 45 dB of a lossless encode of the same pictures, with audio")
    func roundTrip() throws {
        let source = try Oracle.decodedFrames(Samples.path(Samples.portrait16fps)).prefix(32)
        let path = Fixtures.shared.scratch("written.mp4")
        let writer = try VideoWriter(path: path, settings: VideoSettings(width: 480, height: 832, frameRate: Rational(16, 1),
                                                                          audio: AudioSettings()))
        for image in source { try writer.append(image) }
        // 2 s of a 440 Hz stereo tone.
        let tone = (0..<96_000).flatMap { i -> [Float] in let v = Float(sin(Double(i) * 2 * .pi * 440 / 48_000)) * 0.3; return [v, v] }
        try writer.appendAudio(tone)
        try writer.finish()

        let info = MediaProbe.probe(path)
        #expect(info.error == nil)
        #expect(info.video?.frameCount == 32)
        #expect(info.video?.frameRate == Rational(16, 1))
        #expect(abs((info.video?.duration ?? 0) - 2) < 0.001)
        #expect(info.audio?.codec == "aac")
        #expect(abs((info.audio?.duration ?? 0) - 2) < 0.05)
        // The encoder's loss alone: against the same pictures encoded losslessly (both share the
        // RGB → 4:2:0 conversion, which costs testsrc2's hard colour edges ~35 dB by itself).
        let lossless = Fixtures.shared.scratch("lossless.mp4")
        let reference = try VideoWriter(path: lossless, settings: VideoSettings(width: 480, height: 832, frameRate: Rational(16, 1), crf: 0))
        for image in source { try reference.append(image) }
        try reference.finish()
        let psnr = try Oracle.psnr(path, lossless)
        #expect(psnr.minimum >= 45, "worst frame \(psnr.minimum) dB")
        #expect(try Oracle.streamField(path, "color_space") == "bt709")
    }

    @Test("an abandoned writer leaves no file behind")
    func abandoned() throws {
        let path = Fixtures.shared.scratch("abandoned.mp4")
        do {
            let writer = try VideoWriter(path: path, settings: VideoSettings(width: 64, height: 64, frameRate: Rational(30, 1)))
            try writer.append(RGBImage(width: 64, height: 64, pixels: [UInt8](repeating: 128, count: 64 * 64 * 3)))
        }
        #expect(!FileManager.default.fileExists(atPath: path))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: Fixtures.shared.directory).filter { $0.contains("abandoned") }
        #expect(leftovers.isEmpty)
    }
}
