import CFFmpeg

/// Owns one output container being written (avformat_alloc_output_context2 / avformat_free_context,
/// with its avio file). `finish()` writes the trailer; without it the file is incomplete and the owner
/// discards it.
final class OutputContainer {
    let context: UnsafeMutablePointer<AVFormatContext>
    let path: String
    private var headerWritten = false
    private var finished = false

    /// - Parameter format: muxer name, e.g. "mp4"; the path's extension is not consulted, so temporary
    ///   names work.
    /// - Throws: `FFmpegError` from avformat_alloc_output_context2 (unknown format) or avio_open (the
    ///   file cannot be created).
    init(path: String, format: String = "mp4") throws(FFmpegError) {
        FFmpegLog.configure()
        var allocated: UnsafeMutablePointer<AVFormatContext>? = nil
        try check(avformat_alloc_output_context2(&allocated, nil, format, path), "avformat_alloc_output_context2", path)
        guard let ctx = allocated else { fatalError("avformat_alloc_output_context2: out of memory") }
        // Opened on the local, assigned last (see Decoder.init): freed here or by deinit, never both.
        do {
            try check(avio_open(&ctx.pointee.pb, path, AVIO_FLAG_WRITE), "avio_open", path)
        } catch {
            avformat_free_context(ctx)
            throw error
        }
        context = ctx
        self.path = path
    }

    deinit {
        avio_closep(&context.pointee.pb)
        avformat_free_context(context)
    }

    /// Whether encoders must put their parameter sets in extradata (MP4 does).
    var needsGlobalHeader: Bool { context.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER != 0 }

    /// Adds a stream described by an opened encoder (avformat_new_stream + avcodec_parameters_from_context).
    func addStream(from encoder: Encoder) throws(FFmpegError) -> UnsafeMutablePointer<AVStream> {
        let stream = try newStream()
        try check(avcodec_parameters_from_context(stream.pointee.codecpar, encoder.context), "avcodec_parameters_from_context", path)
        stream.pointee.time_base = encoder.context.pointee.time_base
        return stream
    }

    /// Adds a stream copying another stream's codec parameters (for stream copy).
    func addStream(copying parameters: UnsafePointer<AVCodecParameters>, timeBase: AVRational) throws(FFmpegError) -> UnsafeMutablePointer<AVStream> {
        let stream = try newStream()
        try check(avcodec_parameters_copy(stream.pointee.codecpar, parameters), "avcodec_parameters_copy", path)
        stream.pointee.codecpar.pointee.codec_tag = 0
        stream.pointee.time_base = timeBase
        return stream
    }

    /// avformat_new_stream returns NULL for lack of memory but also past the muxer's max_streams.
    private func newStream() throws(FFmpegError) -> UnsafeMutablePointer<AVStream> {
        guard let stream = avformat_new_stream(context, nil) else {
            throw FFmpegError(code: cffmpeg_averror(ENOMEM), function: "avformat_new_stream", target: path)
        }
        return stream
    }

    /// Writes the header; `faststart` moves the index to the front when finishing.
    func writeHeader(faststart: Bool = true) throws(FFmpegError) {
        var options: OpaquePointer? = nil
        if faststart { av_dict_set(&options, "movflags", "+faststart", 0) }
        defer { av_dict_free(&options) }
        try check(avformat_write_header(context, &options), "avformat_write_header", path)
        headerWritten = true
    }

    /// Writes one packet, interleaving streams by time (av_interleaved_write_frame). Takes the packet's data.
    func write(_ packet: Packet) throws(FFmpegError) {
        try check(av_interleaved_write_frame(context, packet.pointer), "av_interleaved_write_frame", path)
    }

    /// Writes the trailer and closes the file (av_write_trailer).
    func finish() throws(FFmpegError) {
        guard headerWritten, !finished else { return }
        finished = true
        try check(av_write_trailer(context), "av_write_trailer", path)
        try check(avio_closep(&context.pointee.pb), "avio_closep", path)
    }
}
