import CFFmpeg

/// Owns one AVFrame (av_frame_alloc / av_frame_free).
final class Frame {
    let pointer: UnsafeMutablePointer<AVFrame>

    init() {
        guard let f = av_frame_alloc() else { fatalError("av_frame_alloc: out of memory") }
        pointer = f
    }

    /// A new frame referencing the same buffers (av_frame_ref). Frames here are always reference
    /// counted, so av_frame_ref only allocates: its failure is out of memory.
    func clone() -> Frame {
        let copy = Frame()
        guard av_frame_ref(copy.pointer, pointer) >= 0 else { fatalError("av_frame_ref: out of memory") }
        return copy
    }

    deinit {
        var f: UnsafeMutablePointer<AVFrame>? = pointer
        av_frame_free(&f)
    }

    var width: Int { Int(pointer.pointee.width) }
    var height: Int { Int(pointer.pointee.height) }
    var pixelFormat: AVPixelFormat { AVPixelFormat(rawValue: pointer.pointee.format) }
    /// The presentation time the decoder settled on (pts, or a guess when the stream lacks one).
    var timestamp: Int64 { pointer.pointee.best_effort_timestamp }

    /// AVFrame.data as the C array of plane pointers the C API takes (Swift imports it as a tuple).
    var planes: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?> {
        UnsafeMutableRawPointer(pointer).advanced(by: MemoryLayout<AVFrame>.offset(of: \AVFrame.data)!)
            .assumingMemoryBound(to: UnsafeMutablePointer<UInt8>?.self)
    }

    /// AVFrame.linesize as a C array: bytes per row of each plane.
    var strides: UnsafeMutablePointer<Int32> {
        UnsafeMutableRawPointer(pointer).advanced(by: MemoryLayout<AVFrame>.offset(of: \AVFrame.linesize)!)
            .assumingMemoryBound(to: Int32.self)
    }

    /// Allocates buffers for a picture of this size and format (av_frame_get_buffer).
    /// - Throws: `FFmpegError` (EINVAL) for a size or format FFmpeg refuses.
    static func picture(width: Int, height: Int, format: AVPixelFormat) throws(FFmpegError) -> Frame {
        let frame = Frame()
        guard let w = Int32(exactly: width), let h = Int32(exactly: height) else {
            throw FFmpegError(code: cffmpeg_averror(EINVAL), function: "av_frame_get_buffer", target: "a \(width)x\(height) picture")
        }
        frame.pointer.pointee.width = w
        frame.pointer.pointee.height = h
        frame.pointer.pointee.format = format.rawValue
        try checkAllocation(av_frame_get_buffer(frame.pointer, 0), "av_frame_get_buffer", "a \(width)x\(height) picture")
        return frame
    }

    /// Gives the frame buffers of its own before it is written to (av_frame_make_writable): a decoded
    /// frame's buffers may still be the decoder's reference pictures.
    /// - Throws: `FFmpegError` when the frame has no picture to copy.
    func makeWritable() throws(FFmpegError) {
        try checkAllocation(av_frame_make_writable(pointer), "av_frame_make_writable", "a \(width)x\(height) picture")
    }

    func unref() { av_frame_unref(pointer) }
}
