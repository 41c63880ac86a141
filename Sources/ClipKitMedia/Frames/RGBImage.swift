import CFFmpeg
import ClipKitCore

extension RGBImage {
    /// Copies an RGB24 frame out of FFmpeg's buffers (rows may be padded).
    init(rgbFrame frame: Frame) {
        let (width, height) = (frame.width, frame.height)
        let stride = Int(frame.strides[0]), rowBytes = width * 3
        var pixels = [UInt8](repeating: 0, count: rowBytes * height)
        let source = frame.planes[0]!
        pixels.withUnsafeMutableBytes { out in
            for y in 0..<height {
                (out.baseAddress! + y * rowBytes).copyMemory(from: source + y * stride, byteCount: rowBytes)
            }
        }
        self.init(width: width, height: height, pixels: pixels)
    }

    /// The picture cropped to the target's aspect (centred) and scaled to width × height: how a
    /// generation fits its input image to the clip's size.
    /// - Throws: `FFmpegError` when the scaler cannot be set up.
    public func covering(width targetWidth: Int, height targetHeight: Int) throws(FFmpegError) -> RGBImage {
        let target = Double(targetWidth) / Double(targetHeight), source = Double(width) / Double(height)
        var cropW = width, cropH = height
        if source > target { cropW = max(2, Int(Double(height) * target)) } else { cropH = max(2, Int(Double(width) / target)) }
        return try cropped(x: (width - cropW) / 2, y: (height - cropH) / 2, width: cropW, height: cropH)
            .resized(width: targetWidth, height: targetHeight)
    }

    /// Mean CIE76 ΔE (CIELAB, D65, sampled every 4 pixels) against another image of the same size:
    /// how different the two look. About 1 is at the edge of visible; a wrong YUV matrix on saturated
    /// colours gives 5–10.
    public func meanDeltaE(against other: RGBImage) -> Double {
        precondition(width == other.width && height == other.height, "ΔE needs images of the same size")
        return ColorDifference.meanDeltaE(self, other)
    }
}
