import CFFmpeg

/// Owns one opened encoder (avcodec_alloc_context3 / avcodec_free_context).
final class Encoder {
    let context: UnsafeMutablePointer<AVCodecContext>
    /// What is being encoded, for error messages (e.g. "PNG for last.png").
    let target: String

    /// Allocates an encoder for `codecID`; `configure` sets size, format, time base and options
    /// before avcodec_open2 runs.
    /// - Throws: `FFmpegError` when the encoder is missing or refuses the settings.
    /// - Parameter name: a specific encoder (e.g. "libx264") to prefer over the default for `codecID`.
    init(codecID: AVCodecID, name: String? = nil, target: String,
         configure: (UnsafeMutablePointer<AVCodecContext>) -> Void) throws(FFmpegError) {
        self.target = target
        guard let codec = name.flatMap({ avcodec_find_encoder_by_name($0) }) ?? avcodec_find_encoder(codecID) else {
            throw FFmpegError(code: cffmpeg_averror(ENOSYS), function: "avcodec_find_encoder", target: target)
        }
        guard let ctx = avcodec_alloc_context3(codec) else { fatalError("avcodec_alloc_context3: out of memory") }
        configure(ctx)
        try settingUp(ctx) { () throws(FFmpegError) in try check(avcodec_open2(ctx, codec, nil), "avcodec_open2", target) }
        context = ctx
    }

    deinit {
        var ctx: UnsafeMutablePointer<AVCodecContext>? = context
        avcodec_free_context(&ctx)
    }

    /// Sends one frame (nil drains) and hands every packet that comes out to `body`.
    /// - Throws: `FFmpegError` from avcodec_send_frame / avcodec_receive_packet.
    func encode(_ frame: Frame?, _ body: (Packet) throws -> Void) throws {
        try check(avcodec_send_frame(context, frame?.pointer), "avcodec_send_frame", target)
        let packet = Packet()
        while true {
            let result = avcodec_receive_packet(context, packet.pointer)
            if result == cffmpeg_averror(EAGAIN) || result == cffmpeg_averror_eof() { return }
            try check(result, "avcodec_receive_packet", target)
            defer { packet.unref() }
            try body(packet)
        }
    }
}
