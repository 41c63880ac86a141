import CFFmpeg
import ClipKitCore

/// How `VideoWriter` encodes: H.264 (libx264) in MP4, BT.709 tagged by default, optionally with AAC audio.
public struct VideoSettings: Sendable, Hashable {
    public var width: Int
    public var height: Int
    public var frameRate: Rational
    /// x264 constant rate factor. 16 keeps every frame of provider-like clips above 45 dB PSNR (YUV)
    /// against its source at the veryfast preset.
    public var crf: Int
    public var preset: String
    /// Frames between keyframes; nil lets x264 decide.
    public var keyframeInterval: Int?
    /// Audio sample rate and channels, or nil for a silent clip.
    public var audio: AudioSettings?
    /// The RGB → YUV matrix: `.bt709` or `.bt601` (others are written as BT.709).
    public var matrix: ColorMatrix
    /// Say the matrix in the stream (VUI and colr box). Untagged BT.601 is what ffmpeg, imageio and
    /// PyAV write by default; the sandbox uses it to stand in for such providers.
    public var tagsColor: Bool

    public init(width: Int, height: Int, frameRate: Rational, crf: Int = 16, preset: String = "veryfast",
                keyframeInterval: Int? = nil, audio: AudioSettings? = nil, matrix: ColorMatrix = .bt709, tagsColor: Bool = true) {
        self.width = width
        self.height = height
        self.frameRate = frameRate
        self.crf = crf
        self.preset = preset
        self.keyframeInterval = keyframeInterval
        self.audio = audio
        self.matrix = matrix == .bt601 ? .bt601 : .bt709
        self.tagsColor = tagsColor
    }

    /// The tags the encoder and the frames carry: BT.709 in full, BT.601 as its matrix (SMPTE 170M)
    /// with video range, or nothing at all.
    var colorTags: (space: AVColorSpace, primaries: AVColorPrimaries, transfer: AVColorTransferCharacteristic, range: AVColorRange) {
        guard tagsColor else { return (AVCOL_SPC_UNSPECIFIED, AVCOL_PRI_UNSPECIFIED, AVCOL_TRC_UNSPECIFIED, AVCOL_RANGE_UNSPECIFIED) }
        return matrix == .bt709 ? (AVCOL_SPC_BT709, AVCOL_PRI_BT709, AVCOL_TRC_BT709, AVCOL_RANGE_MPEG)
            : (AVCOL_SPC_SMPTE170M, AVCOL_PRI_SMPTE170M, AVCOL_TRC_SMPTE170M, AVCOL_RANGE_MPEG)
    }
}

/// The AAC track a `VideoWriter` adds: interleaved float samples in, at this rate and channel count.
public struct AudioSettings: Sendable, Hashable {
    public var sampleRate: Int
    public var channels: Int
    public var bitRate: Int

    public init(sampleRate: Int = 48_000, channels: Int = 2, bitRate: Int = 128_000) {
        self.sampleRate = sampleRate
        self.channels = channels
        self.bitRate = bitRate
    }
}

/// Writes a new MP4 from pictures (and optional audio samples) through a temporary file that is
/// renamed into place by `finish()`; dropped without `finish()`, it leaves nothing behind. Library users
/// get one from `VideoWriter.write(to:settings:overwrite:progress:_:)`, on the media executor.
public final class VideoWriter {
    public let settings: VideoSettings
    /// Pictures encoded so far.
    public private(set) var framesWritten = 0
    /// Told the count after each picture encoded.
    var onFrame: (@Sendable (Int) -> Void)?

    private let output: OutputFile
    private let container: OutputContainer
    /// The H.264 encoder, or nil when video packets are copied from the inputs.
    private let video: Encoder?
    private let videoStream: UnsafeMutablePointer<AVStream>
    private let audio: (encoder: Encoder, stream: UnsafeMutablePointer<AVStream>)?
    private var pendingSamples: [Float] = []
    private var samplesWritten: Int64 = 0
    private var rgbToYUV: Scaler?
    private var finished = false

    /// - Throws: `OutputFileError.exists` unless `overwrite`, `OutputFileError` when the file cannot be
    ///   created or written; `FFmpegError` if an encoder cannot open.
    package convenience init(path: String, settings: VideoSettings, overwrite: Bool = false) throws {
        try self.init(path: path, settings: settings, copying: nil, overwrite: overwrite)
    }

    /// With `copying`, video packets are copied from inputs shaped like `stream` instead of encoded; the
    /// stream's display matrix comes along so a rotated clip still plays upright.
    init(path: String, settings: VideoSettings, copying stream: UnsafeMutablePointer<AVStream>?, overwrite: Bool) throws {
        self.settings = settings
        let file = try OutputFile(path, overwrite: overwrite)
        output = file
        let container = try Self.muxing(path) { () throws(FFmpegError) in try OutputContainer(path: file.temporaryPath) }
        self.container = container
        // A throw before every stored property is set skips deinit, so the temporary file is removed here.
        do {
            let globalHeader = container.needsGlobalHeader
            if let source = stream {
                video = nil
                videoStream = try container.addStream(copying: source.pointee.codecpar, timeBase: source.pointee.time_base)
                var size = 0
                if let matrix = av_stream_get_side_data(source, AV_PKT_DATA_DISPLAYMATRIX, &size),
                   let copy = av_stream_new_side_data(videoStream, AV_PKT_DATA_DISPLAYMATRIX, size) {
                    copy.update(from: matrix, count: size)
                }
                videoStream.pointee.avg_frame_rate = AVRational(num: Int32(settings.frameRate.numerator),
                                                                den: Int32(settings.frameRate.denominator))
            } else {
                let encoder = try Self.videoEncoder(path: path, settings: settings, globalHeader: globalHeader)
                video = encoder
                videoStream = try container.addStream(from: encoder)
                videoStream.pointee.avg_frame_rate = encoder.context.pointee.framerate
            }
            if let audioSettings = settings.audio {
                let encoder = try Encoder(codecID: AV_CODEC_ID_AAC, target: "AAC for \(path)") { ctx in
                    ctx.pointee.sample_fmt = AV_SAMPLE_FMT_FLTP
                    ctx.pointee.sample_rate = Int32(audioSettings.sampleRate)
                    av_channel_layout_default(&ctx.pointee.ch_layout, Int32(audioSettings.channels))
                    ctx.pointee.bit_rate = Int64(audioSettings.bitRate)
                    ctx.pointee.time_base = AVRational(num: 1, den: Int32(audioSettings.sampleRate))
                    if globalHeader { ctx.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER }
                }
                audio = (encoder, try container.addStream(from: encoder))
            } else {
                audio = nil
            }
            try Self.muxing(path) { () throws(FFmpegError) in try container.writeHeader() }
        } catch {
            file.discard()
            throw error
        }
    }

    /// Runs container work, whose failures are failures to write the output (no space, the file went
    /// away, …): reported as `OutputFileError.unwritable` naming the destination and the call.
    private static func muxing<T>(_ destination: String, _ body: () throws(FFmpegError) -> T) throws(OutputFileError) -> T {
        do {
            return try body()
        } catch {
            throw OutputFileError.unwritable(destination, call: error.function, reason: error.reason)
        }
    }

    private static func videoEncoder(path: String, settings: VideoSettings, globalHeader: Bool) throws -> Encoder {
        try Encoder(codecID: AV_CODEC_ID_H264, name: "libx264", target: "H.264 for \(path)") { ctx in
            ctx.pointee.width = Int32(settings.width)
            ctx.pointee.height = Int32(settings.height)
            ctx.pointee.pix_fmt = AV_PIX_FMT_YUV420P
            ctx.pointee.time_base = AVRational(num: Int32(settings.frameRate.denominator), den: Int32(settings.frameRate.numerator))
            ctx.pointee.framerate = AVRational(num: Int32(settings.frameRate.numerator), den: Int32(settings.frameRate.denominator))
            let tags = settings.colorTags
            ctx.pointee.colorspace = tags.space
            ctx.pointee.color_primaries = tags.primaries
            ctx.pointee.color_trc = tags.transfer
            ctx.pointee.color_range = tags.range
            ctx.pointee.thread_count = 0
            if let interval = settings.keyframeInterval { ctx.pointee.gop_size = Int32(interval) }
            if globalHeader { ctx.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER }
            av_opt_set(ctx.pointee.priv_data, "preset", settings.preset, 0)
            av_opt_set(ctx.pointee.priv_data, "crf", "\(settings.crf)", 0)
        }
    }

    deinit {
        if !finished { output.discard() }
    }

    /// Encodes one RGB picture of the writer's size as the next frame.
    /// - Throws: `FFmpegError` from the encoder or muxer; `CancellationError` when the task is cancelled.
    public func append(_ image: RGBImage) throws {
        precondition(image.width == settings.width && image.height == settings.height, "frame size must match the writer's")
        let rgb = try image.frame()
        if rgbToYUV == nil {
            rgbToYUV = try Scaler(from: (image.width, image.height, AV_PIX_FMT_RGB24), sourceMatrix: SWS_CS_DEFAULT, sourceFullRange: true,
                              to: (settings.width, settings.height, AV_PIX_FMT_YUV420P), targetMatrix: Scaler.coefficients(settings.matrix),
                              targetFullRange: false)
        }
        try append(frame: try rgbToYUV!.convert(rgb))
    }

    /// Encodes a YUV 4:2:0 frame of the writer's size as the next frame (its timestamp is replaced).
    func append(frame: Frame) throws {
        guard let video else { preconditionFailure("append(frame:) on a VideoWriter that copies packets") }
        // Between frames: a cancelled task stops here, and the unfinished writer removes its temporary file.
        try Task.checkCancellation()
        frame.pointer.pointee.pts = Int64(framesWritten)
        frame.pointer.pointee.pict_type = AV_PICTURE_TYPE_NONE
        frame.pointer.pointee.colorspace = settings.colorTags.space
        frame.pointer.pointee.color_range = settings.colorTags.range
        try video.encode(frame) { try write($0, from: video.context.pointee.time_base, to: videoStream) }
        framesWritten += 1
        onFrame?(framesWritten)
    }

    /// Writes a copied video packet whose timestamps are already in `timeBase` on the output timeline.
    func appendCopied(_ packet: Packet, timeBase: AVRational) throws {
        try Task.checkCancellation()
        try write(packet, from: timeBase, to: videoStream)
        framesWritten += 1
    }

    /// Queues interleaved float samples (−1…1) for the audio track, encoding whole AAC frames as they fill.
    public func appendAudio(_ samples: [Float]) throws {
        guard audio != nil else { return }
        pendingSamples.append(contentsOf: samples)
        try encodePendingAudio(flush: false)
    }

    /// Flushes the encoders, writes the index at the front and renames the file into place.
    /// - Throws: `FFmpegError` or `OutputFileError`; the temporary file is removed on failure.
    package func finish() throws {
        guard !finished else { return }
        do {
            if let video { try video.encode(nil) { try write($0, from: video.context.pointee.time_base, to: videoStream) } }
            if let audio {
                try encodePendingAudio(flush: true)
                try audio.encoder.encode(nil) { try write($0, from: audio.encoder.context.pointee.time_base, to: audio.stream) }
            }
            try Self.muxing(output.destination) { () throws(FFmpegError) in try container.finish() }
            finished = true
            try output.commit()
        } catch {
            finished = true
            output.discard()
            throw error
        }
    }

    private func encodePendingAudio(flush: Bool) throws {
        guard let audio else { return }
        let channels = settings.audio!.channels
        let frameSize = Int(audio.encoder.context.pointee.frame_size)
        while pendingSamples.count >= frameSize * channels || (flush && !pendingSamples.isEmpty) {
            let count = min(frameSize, pendingSamples.count / channels)
            guard count > 0 else { pendingSamples.removeAll(); break }
            let frame = Frame()
            frame.pointer.pointee.nb_samples = Int32(count)
            frame.pointer.pointee.format = AV_SAMPLE_FMT_FLTP.rawValue
            frame.pointer.pointee.sample_rate = audio.encoder.context.pointee.sample_rate
            av_channel_layout_copy(&frame.pointer.pointee.ch_layout, &audio.encoder.context.pointee.ch_layout)
            try checkAllocation(av_frame_get_buffer(frame.pointer, 0), "av_frame_get_buffer", "AAC for \(output.destination)")
            for channel in 0..<channels {
                let plane = UnsafeMutableRawPointer(frame.planes[channel]!).assumingMemoryBound(to: Float.self)
                for i in 0..<count { plane[i] = pendingSamples[i * channels + channel] }
            }
            pendingSamples.removeFirst(count * channels)
            frame.pointer.pointee.pts = samplesWritten
            samplesWritten += Int64(count)
            try audio.encoder.encode(frame) { try write($0, from: audio.encoder.context.pointee.time_base, to: audio.stream) }
        }
    }

    private func write(_ packet: Packet, from timeBase: AVRational, to stream: UnsafeMutablePointer<AVStream>) throws {
        av_packet_rescale_ts(packet.pointer, timeBase, stream.pointee.time_base)
        packet.pointer.pointee.stream_index = stream.pointee.index
        try Self.muxing(output.destination) { () throws(FFmpegError) in try container.write(packet) }
    }
}

extension RGBImage {
    /// The picture in an RGB24 AVFrame.
    /// - Throws: `FFmpegError` for a size FFmpeg refuses.
    func frame() throws(FFmpegError) -> Frame {
        let rgb = try Frame.picture(width: width, height: height, format: AV_PIX_FMT_RGB24)
        let stride = Int(rgb.strides[0]), rowBytes = width * 3
        pixels.withUnsafeBytes { src in
            for y in 0..<height {
                (rgb.planes[0]! + y * stride).update(from: src.baseAddress!.assumingMemoryBound(to: UInt8.self) + y * rowBytes, count: rowBytes)
            }
        }
        return rgb
    }

    /// The picture scaled to a new size (bicubic), for fitting an input image to a clip's size.
    /// - Throws: `FFmpegError` (sws_getContext) for a size swscale cannot make, e.g. 0×0.
    package func resized(width newWidth: Int, height newHeight: Int) throws(FFmpegError) -> RGBImage {
        guard newWidth != width || newHeight != height else { return self }
        let scaler = try Scaler(from: (width, height, AV_PIX_FMT_RGB24), sourceMatrix: SWS_CS_DEFAULT, sourceFullRange: true,
                            to: (newWidth, newHeight, AV_PIX_FMT_RGB24), targetFullRange: true, flags: SWS_BICUBIC | SWS_ACCURATE_RND)
        return RGBImage(rgbFrame: try scaler.convert(try frame()))
    }
}
