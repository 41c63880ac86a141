import CFFmpeg
import ClipKitCore
@testable import ClipKitMedia
import ClipKitTestSupport
import Foundation
import Testing

/// FFmpeg objects whose set-up fails: each throws an error naming the call, frees what it allocated
/// once (the double frees these replace crashed or, under ASan, reported), and leaves no file.
@Suite("failure paths")
struct FailurePathTests {
    @Test("a container whose file cannot be created throws avio_open's error (it used to free its context twice)")
    func containerCannotOpen() throws {
        let path = "/proc/clipkit-\(UUID().uuidString.prefix(8)).mp4"
        #expect {
            _ = try OutputContainer(path: path)
        } throws: { error in
            (error as? FFmpegError)?.function == "avio_open" && (error as? FFmpegError)?.target == path
        }
    }

    @Test("a writer that cannot create its file names the destination and avio_open, and leaves nothing")
    func writerCannotOpen() throws {
        let path = "/proc/clipkit-\(UUID().uuidString.prefix(8)).mp4"
        #expect {
            _ = try VideoWriter(path: path, settings: VideoSettings(width: 64, height: 64, frameRate: Rational(30, 1)))
        } throws: { error in
            guard case .unwritable(path, "avio_open", _)? = error as? OutputFileError else { return false }
            return "\(error)".hasPrefix("cannot write \(path): avio_open: ")
        }
    }

    @Test("a writer whose encoder refuses the settings removes its temporary file")
    func writerEncoderRefuses() throws {
        let path = Fixtures.shared.scratch("odd-size.mp4")
        // libx264 refuses 4:2:0 at an odd width: avcodec_open2 fails after the file was created.
        #expect(throws: FFmpegError.self) {
            _ = try VideoWriter(path: path, settings: VideoSettings(width: 63, height: 64, frameRate: Rational(30, 1)))
        }
        let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: Fixtures.shared.directory).filter { $0.contains(name) }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }

    @Test("a resampler for a stream with no sound throws from swr_init (it used to free its context twice)")
    func resamplerCannotInit() throws {
        let input = try InputFile(path: Samples.path(Samples.t2v480p))
        let video = try #require(input.bestStream(AVMEDIA_TYPE_VIDEO))
        let decoder = try Decoder(for: input, stream: video, threads: 1)
        #expect {
            _ = try Resampler(from: decoder, toRate: 48_000, channels: 2)
        } throws: { error in
            (error as? FFmpegError)?.function == "swr_init"
        }
    }

    @Test("an encoder that refuses its settings throws avcodec_open2's error")
    func encoderRefuses() throws {
        #expect {
            _ = try Encoder(codecID: AV_CODEC_ID_H264, name: "libx264", target: "H.264 for test") { ctx in
                ctx.pointee.width = 0
                ctx.pointee.height = 0
                ctx.pointee.pix_fmt = AV_PIX_FMT_YUV420P
                ctx.pointee.time_base = AVRational(num: 1, den: 30)
            }
        } throws: { error in
            (error as? FFmpegError)?.function == "avcodec_open2"
        }
    }

    @Test("impossible pictures are errors, not crashes: sws_getContext returning NULL, av_frame_get_buffer's EINVAL")
    func impossiblePictures() throws {
        #expect {
            _ = try Scaler(from: (0, 0, AV_PIX_FMT_YUV420P), sourceMatrix: SWS_CS_ITU709, sourceFullRange: false,
                           to: (64, 64, AV_PIX_FMT_RGB24), targetFullRange: true)
        } throws: { error in
            "\(error)" == "sws_getContext failed on 0x0 yuv420p to 64x64 rgb24: Invalid argument"
        }
        #expect {
            _ = try Frame.picture(width: 0, height: 0, format: AV_PIX_FMT_YUV420P)
        } throws: { error in
            (error as? FFmpegError)?.function == "av_frame_get_buffer" && (error as? FFmpegError)?.averror == cffmpeg_averror(EINVAL)
        }
        let image = RGBImage(width: 4, height: 4, pixels: [UInt8](repeating: 200, count: 48))
        #expect(throws: FFmpegError.self) { _ = try image.resized(width: 0, height: 0) }
        #expect(try image.resized(width: 8, height: 8).width == 8)
    }
}
