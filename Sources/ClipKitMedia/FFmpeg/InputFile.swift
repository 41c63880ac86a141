import CFFmpeg

/// Owns one opened input (avformat_open_input / avformat_close_input) and reads its packets.
final class InputFile {
    let context: UnsafeMutablePointer<AVFormatContext>
    /// The path or URL, for error messages.
    let path: String

    /// Opens `path` and reads its header. `formatName` skips format probing when the caller already
    /// knows the container (e.g. "mp4" after seeing an `ftyp` box).
    /// - Throws: `FFmpegError` from avformat_open_input.
    init(path: String, formatName: String? = nil) throws(FFmpegError) {
        FFmpegLog.configure()
        var ctx: UnsafeMutablePointer<AVFormatContext>? = nil
        let format = formatName.flatMap { av_find_input_format($0) }
        try check(avformat_open_input(&ctx, path, format, nil), "avformat_open_input", path)
        context = ctx!
        self.path = path
    }

    deinit {
        var ctx: UnsafeMutablePointer<AVFormatContext>? = context
        avformat_close_input(&ctx)
    }

    /// Reads a few packets to fill in codec parameters the header lacks (avformat_find_stream_info).
    /// Slow: it decodes. Only for containers whose header does not carry everything.
    func findStreamInfo() throws(FFmpegError) {
        try check(avformat_find_stream_info(context, nil), "avformat_find_stream_info", path)
    }

    var streamCount: Int { Int(context.pointee.nb_streams) }

    func stream(_ index: Int) -> UnsafeMutablePointer<AVStream> { context.pointee.streams[index]! }

    /// The main stream of a kind, skipping cover art (av_find_best_stream), or nil.
    func bestStream(_ type: AVMediaType) -> Int? {
        let index = av_find_best_stream(context, type, -1, -1, nil, 0)
        guard index >= 0 else { return nil }
        if stream(Int(index)).pointee.disposition & AV_DISPOSITION_ATTACHED_PIC != 0 { return nil }
        return Int(index)
    }

    /// Makes the demuxer skip every stream but `index`, so reading returns only its packets.
    func selectOnly(_ index: Int) {
        for i in 0..<streamCount {
            stream(i).pointee.discard = i == index ? AVDISCARD_DEFAULT : AVDISCARD_ALL
        }
    }

    /// Reads the next packet into `packet` (av_read_frame).
    /// - Returns: false at the end of the file.
    /// - Throws: `FFmpegError` for a read error other than the end.
    func read(into packet: Packet) throws(FFmpegError) -> Bool {
        packet.unref()
        let result = av_read_frame(context, packet.pointer)
        if result == cffmpeg_averror_eof() { return false }
        try check(result, "av_read_frame", path)
        return true
    }

    /// Goes back to the first packet, after reading (avformat_seek_file to the container's start).
    func rewind() throws(FFmpegError) {
        let start = context.pointee.start_time != cffmpeg_nopts_value() ? context.pointee.start_time : 0
        try check(avformat_seek_file(context, -1, Int64.min, start, start, AVSEEK_FLAG_BACKWARD), "avformat_seek_file", path)
    }

    /// Seeks `stream` to the keyframe at or before `timestamp` (in the stream's time base).
    func seek(stream index: Int, to timestamp: Int64) throws(FFmpegError) {
        try check(av_seek_frame(context, Int32(index), timestamp, AVSEEK_FLAG_BACKWARD), "av_seek_frame", path)
    }
}
