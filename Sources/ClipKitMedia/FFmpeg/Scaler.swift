import CFFmpeg

/// Owns one SwsContext (sws_getContext / sws_freeContext): converts pictures between pixel formats
/// and sizes with explicit colour matrices and ranges.
final class Scaler {
    let context: OpaquePointer
    let output: (width: Int, height: Int, format: AVPixelFormat)

    /// - Parameters:
    ///   - sourceMatrix / targetMatrix: swscale colour-space ids (SWS_CS_ITU709, SWS_CS_ITU601, …).
    ///   - sourceFullRange / targetFullRange: JPEG (0–255) rather than video (16–235) levels.
    /// - Throws: `FFmpegError` (EINVAL) from sws_getContext for a size or pixel format it cannot convert.
    init(from source: (width: Int, height: Int, format: AVPixelFormat), sourceMatrix: Int32, sourceFullRange: Bool,
         to target: (width: Int, height: Int, format: AVPixelFormat), targetMatrix: Int32 = SWS_CS_DEFAULT,
         targetFullRange: Bool, flags: Int32 = SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT | SWS_FULL_CHR_H_INP) throws(FFmpegError) {
        // sws_getContext gives NULL without a reason: unsupported formats, zero or oversized pictures.
        guard let sw = Int32(exactly: source.width), let sh = Int32(exactly: source.height),
              let tw = Int32(exactly: target.width), let th = Int32(exactly: target.height),
              let ctx = sws_getContext(sw, sh, Scaler.plainFormat(source.format), tw, th, Scaler.plainFormat(target.format),
                                       flags, nil, nil, nil)
        else {
            throw FFmpegError(code: cffmpeg_averror(EINVAL), function: "sws_getContext",
                              target: "\(Scaler.describe(source)) to \(Scaler.describe(target))")
        }
        context = ctx
        output = target
        let yuvToRGB = sws_getCoefficients(sourceMatrix), rgbToYUV = sws_getCoefficients(targetMatrix)
        sws_setColorspaceDetails(ctx, yuvToRGB, sourceFullRange ? 1 : 0, rgbToYUV, targetFullRange ? 1 : 0, 0, 1 << 16, 1 << 16)
    }

    deinit { sws_freeContext(context) }

    /// Converts `source` into a new frame of the output size and format (sws_scale).
    /// - Throws: `FFmpegError` from av_frame_get_buffer or sws_scale.
    func convert(_ source: Frame) throws(FFmpegError) -> Frame {
        let target = try Frame.picture(width: output.width, height: output.height, format: Scaler.plainFormat(output.format))
        try scale(source, into: target.planes, strides: target.strides)
        return target
    }

    /// Converts `source` into `target`'s planes with the output's top-left corner at (x, y) — for
    /// letterboxing into a larger canvas. x and y must be even for 4:2:0 targets.
    /// - Throws: `FFmpegError` from sws_scale.
    func convert(_ source: Frame, into target: Frame, x: Int, y: Int) throws(FFmpegError) {
        var planes = [UnsafeMutablePointer<UInt8>?](repeating: nil, count: 4)
        for plane in 0..<3 {
            guard let base = target.planes[plane] else { continue }
            let (dx, dy) = plane == 0 ? (x, y) : (x / 2, y / 2)
            planes[plane] = base + dy * Int(target.strides[plane]) + dx
        }
        try scale(source, into: &planes, strides: target.strides)
    }

    private func scale(_ source: Frame, into planes: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>,
                       strides: UnsafeMutablePointer<Int32>) throws(FFmpegError) {
        let sourceFormat = source.pointer.pointee.format
        // The deprecated yuvj formats mean "full range"; swscale wants the plain format plus explicit range.
        source.pointer.pointee.format = Scaler.plainFormat(source.pixelFormat).rawValue
        defer { source.pointer.pointee.format = sourceFormat }
        let result = sws_scale(context, UnsafeRawPointer(source.planes).assumingMemoryBound(to: UnsafePointer<UInt8>?.self),
                               source.strides, 0, Int32(source.height), planes, strides)
        try check(result, "sws_scale", "a \(Scaler.describe((source.width, source.height, source.pixelFormat))) picture")
    }

    /// "832x480 yuv420p", for error messages.
    static func describe(_ picture: (width: Int, height: Int, format: AVPixelFormat)) -> String {
        let name = av_get_pix_fmt_name(picture.format).map { String(cString: $0) } ?? "pixel format \(picture.format.rawValue)"
        return "\(picture.width)x\(picture.height) \(name)"
    }

    static func plainFormat(_ format: AVPixelFormat) -> AVPixelFormat {
        switch format {
        case AV_PIX_FMT_YUVJ420P: AV_PIX_FMT_YUV420P
        case AV_PIX_FMT_YUVJ422P: AV_PIX_FMT_YUV422P
        case AV_PIX_FMT_YUVJ444P: AV_PIX_FMT_YUV444P
        default: format
        }
    }

    /// The swscale matrix for a decoded frame: its tag, or for untagged video BT.709 when HD
    /// (width ≥ 1280 or height ≥ 720) and BT.601 otherwise, as players assume.
    static func matrix(for frame: Frame) -> Int32 {
        switch frame.pointer.pointee.colorspace {
        case AVCOL_SPC_UNSPECIFIED, AVCOL_SPC_RESERVED, AVCOL_SPC_RGB:
            return frame.width >= 1280 || frame.height >= 720 ? SWS_CS_ITU709 : SWS_CS_ITU601
        case let space:
            return Int32(space.rawValue)  // swscale's table is indexed by AVColorSpace
        }
    }

    static func isFullRange(_ frame: Frame) -> Bool {
        frame.pointer.pointee.color_range == AVCOL_RANGE_JPEG
            || [AV_PIX_FMT_YUVJ420P, AV_PIX_FMT_YUVJ422P, AV_PIX_FMT_YUVJ444P].contains(frame.pixelFormat)
    }
}
