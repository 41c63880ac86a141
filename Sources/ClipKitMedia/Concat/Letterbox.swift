import CFFmpeg

/// Fits decoded pictures of any size, rotation and pixel format into the output's YUV 4:2:0 canvas,
/// keeping their aspect (bars, never stretching).
final class Letterbox {
    let width: Int
    let height: Int
    private var scaler: Scaler?
    private var scalerKey: (Int, Int, AVPixelFormat)?
    private var placement = (x: 0, y: 0, width: 0, height: 0)

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    /// The picture rotated upright, scaled to fit and centred on black. A picture that already is the
    /// canvas (size, 8-bit 4:2:0, video range) comes back as a new reference to the same buffers, not
    /// a copy: most chains are one size, and a 1080p copy per frame is a tenth of the encode's time.
    /// - Throws: `FFmpegError` from swscale or av_frame_get_buffer.
    func fit(_ frame: Frame, rotation: Int) throws(FFmpegError) -> Frame {
        if rotation == 0, frame.width == width, frame.height == height, frame.pixelFormat == AV_PIX_FMT_YUV420P,
           frame.pointer.pointee.color_range != AVCOL_RANGE_JPEG {
            let same = frame.clone()
            if same.pointer.pointee.colorspace == AVCOL_SPC_UNSPECIFIED { same.pointer.pointee.colorspace = AVCOL_SPC_BT709 }
            return same
        }
        let upright = rotation == 0 ? frame : try Letterbox.rotate(try Letterbox.eightBit420(frame), clockwise: rotation)
        let key = (upright.width, upright.height, upright.pixelFormat)
        if scalerKey.map({ $0 != key }) ?? true {
            // Largest even size with the source's aspect that fits the canvas.
            let scale = min(Double(width) / Double(key.0), Double(height) / Double(key.1))
            let w = min(width, Int((Double(key.0) * scale / 2).rounded()) * 2)
            let h = min(height, Int((Double(key.1) * scale / 2).rounded()) * 2)
            placement = ((width - w) / 2 / 2 * 2, (height - h) / 2 / 2 * 2, w, h)
            scaler = try Scaler(from: key, sourceMatrix: Scaler.matrix(for: upright), sourceFullRange: Scaler.isFullRange(upright),
                            to: (w, h, AV_PIX_FMT_YUV420P), targetMatrix: Scaler.matrix(for: upright), targetFullRange: false,
                            flags: SWS_BICUBIC | SWS_ACCURATE_RND)
            scalerKey = key
        }
        let canvas = try Frame.picture(width: width, height: height, format: AV_PIX_FMT_YUV420P)
        if placement.width != width || placement.height != height {
            for plane in 0..<3 {
                let (w, h) = PlaneMath.planeSize(canvas, plane)
                for y in 0..<h { (canvas.planes[plane]! + y * Int(canvas.strides[plane])).update(repeating: plane == 0 ? 16 : 128, count: w) }
            }
        }
        try scaler!.convert(upright, into: canvas, x: placement.x, y: placement.y)
        canvas.pointer.pointee.colorspace = AVCOL_SPC_BT709
        canvas.pointer.pointee.color_range = AVCOL_RANGE_MPEG
        return canvas
    }

    /// The picture as 8-bit 4:2:0 (what `rotate` works on), converted only if it is not already.
    static func eightBit420(_ frame: Frame) throws(FFmpegError) -> Frame {
        let format = Scaler.plainFormat(frame.pixelFormat)
        guard format != AV_PIX_FMT_YUV420P else { return frame }
        let scaler = try Scaler(from: (frame.width, frame.height, frame.pixelFormat), sourceMatrix: Scaler.matrix(for: frame),
                            sourceFullRange: Scaler.isFullRange(frame), to: (frame.width, frame.height, AV_PIX_FMT_YUV420P),
                            targetMatrix: Scaler.matrix(for: frame), targetFullRange: Scaler.isFullRange(frame))
        let converted = try scaler.convert(frame)
        av_frame_copy_props(converted.pointer, frame.pointer)
        return converted
    }

    /// Turns an 8-bit 4:2:0 picture by 90, 180 or 270 degrees clockwise, plane by plane.
    static func rotate(_ frame: Frame, clockwise degrees: Int) throws(FFmpegError) -> Frame {
        let turns = ((degrees / 90) % 4 + 4) % 4
        let (w, h) = (frame.width, frame.height)
        let out = try Frame.picture(width: turns == 2 ? w : h, height: turns == 2 ? h : w, format: AV_PIX_FMT_YUV420P)
        for plane in 0..<3 {
            let (pw, ph) = PlaneMath.planeSize(frame, plane)
            let src = frame.planes[plane]!, dst = out.planes[plane]!
            let srcStride = Int(frame.strides[plane]), dstStride = Int(out.strides[plane])
            for y in 0..<ph {
                for x in 0..<pw {
                    let (nx, ny): (Int, Int)
                    switch turns {
                    case 1: (nx, ny) = (ph - 1 - y, x)
                    case 2: (nx, ny) = (pw - 1 - x, ph - 1 - y)
                    default: (nx, ny) = (y, pw - 1 - x)
                    }
                    dst[ny * dstStride + nx] = src[y * srcStride + x]
                }
            }
        }
        out.pointer.pointee.colorspace = frame.pointer.pointee.colorspace
        out.pointer.pointee.color_range = frame.pointer.pointee.color_range
        return out
    }
}
