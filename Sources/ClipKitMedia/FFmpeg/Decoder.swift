import CFFmpeg

/// Owns one opened decoder (avcodec_alloc_context3 / avcodec_free_context) for one stream.
final class Decoder {
    let context: UnsafeMutablePointer<AVCodecContext>
    /// "stream N of FILE", for error messages.
    let target: String

    /// Opens a decoder for stream `index` of `input`; `threads` 0 uses all cores.
    /// - Throws: `FFmpegError` naming the call and the stream.
    init(for input: InputFile, stream index: Int, threads: Int = 0) throws(FFmpegError) {
        let target = "stream \(index) of \(input.path)"
        self.target = target
        let parameters = input.stream(index).pointee.codecpar!
        guard let codec = avcodec_find_decoder(parameters.pointee.codec_id) else {
            throw FFmpegError(code: cffmpeg_averror_decoder_not_found(), function: "avcodec_find_decoder", target: target)
        }
        guard let ctx = avcodec_alloc_context3(codec) else { fatalError("avcodec_alloc_context3: out of memory") }
        try settingUp(ctx) { () throws(FFmpegError) in
            try check(avcodec_parameters_to_context(ctx, parameters), "avcodec_parameters_to_context", target)
            ctx.pointee.pkt_timebase = input.stream(index).pointee.time_base
            ctx.pointee.thread_count = Int32(threads)
            ctx.pointee.thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE
            try check(avcodec_open2(ctx, codec, nil), "avcodec_open2", target)
        }
        context = ctx
    }

    deinit {
        var ctx: UnsafeMutablePointer<AVCodecContext>? = context
        avcodec_free_context(&ctx)
    }

    /// Frames the decoder may skip: AVDISCARD_NONREF drops pictures no other picture predicts from.
    var skip: AVDiscard {
        get { context.pointee.skip_frame }
        set { context.pointee.skip_frame = newValue }
    }

    /// Feeds `packet` (nil drains) and hands every frame that comes out to `body`, which must not keep
    /// `frame` (clone it to keep it). A packet the decoder rejects as corrupt is counted in `errors`,
    /// not thrown: one damaged frame should not hide the rest of the clip.
    /// - Throws: `FFmpegError` from avcodec_send_packet / avcodec_receive_frame for anything but bad data.
    func decode(_ packet: Packet?, into frame: Frame, errors: inout Int, _ body: (Frame) throws -> Void) throws {
        while true {
            let sent = avcodec_send_packet(context, packet?.pointer)
            if sent == cffmpeg_averror(EAGAIN) {
                // The decoder's output is full: take frames out, then send the same packet again.
                try receiveAll(into: frame, errors: &errors, body)
                continue
            }
            if sent == cffmpeg_averror_invaliddata() {
                errors += 1
            } else if sent != cffmpeg_averror_eof() {
                try check(sent, "avcodec_send_packet", target)
            }
            break
        }
        try receiveAll(into: frame, errors: &errors, body)
    }

    private func receiveAll(into frame: Frame, errors: inout Int, _ body: (Frame) throws -> Void) throws {
        while true {
            let result = avcodec_receive_frame(context, frame.pointer)
            if result == cffmpeg_averror(EAGAIN) || result == cffmpeg_averror_eof() { return }
            if result == cffmpeg_averror_invaliddata() {
                errors += 1
                continue
            }
            try check(result, "avcodec_receive_frame", target)
            if frame.pointer.pointee.decode_error_flags != 0 || frame.pointer.pointee.flags & AV_FRAME_FLAG_CORRUPT != 0 {
                errors += 1
            }
            defer { frame.unref() }
            try body(frame)
        }
    }
}

/// Runs the fallible set-up of a codec context that no object owns yet, freeing it if the set-up
/// throws. Decoder and Encoder assign their context only after this: once every stored property is
/// set, a throw also runs deinit, so a `catch` that freed an assigned context would free it twice.
func settingUp(_ context: UnsafeMutablePointer<AVCodecContext>, _ body: () throws(FFmpegError) -> Void) throws(FFmpegError) {
    do {
        try body()
    } catch {
        var owned: UnsafeMutablePointer<AVCodecContext>? = context
        avcodec_free_context(&owned)
        throw error
    }
}
