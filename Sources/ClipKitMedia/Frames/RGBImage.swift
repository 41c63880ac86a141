import CFFmpeg

/// A decoded picture as packed 8-bit RGB, upright and in full-range sRGB-like levels: the value
/// pipelines pass around (to write a PNG, compare frames, submit as the next clip's first frame).
public struct RGBImage: Sendable, Hashable {
    public let width: Int
    public let height: Int
    /// width × height × 3 bytes, row by row, R G B.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * 3, "RGBImage needs width × height × 3 bytes")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

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

    /// The picture turned clockwise by 0, 90, 180 or 270 degrees.
    public func rotated(clockwise degrees: Int) -> RGBImage {
        let turns = ((degrees / 90) % 4 + 4) % 4
        guard turns != 0 else { return self }
        let (w, h) = (width, height)
        let (outW, outH) = turns == 2 ? (w, h) : (h, w)
        var out = [UInt8](repeating: 0, count: pixels.count)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<h {
                    for x in 0..<w {
                        let (nx, ny): (Int, Int)
                        switch turns {
                        case 1: (nx, ny) = (h - 1 - y, x)
                        case 2: (nx, ny) = (w - 1 - x, h - 1 - y)
                        default: (nx, ny) = (y, w - 1 - x)
                        }
                        let s = (y * w + x) * 3, d = (ny * outW + nx) * 3
                        dst[d] = src[s]
                        dst[d + 1] = src[s + 1]
                        dst[d + 2] = src[s + 2]
                    }
                }
            }
        }
        return RGBImage(width: outW, height: outH, pixels: out)
    }

    /// The picture cropped to the target's aspect (centred) and scaled to width × height: how a
    /// generation fits its input image to the clip's size.
    public func covering(width targetWidth: Int, height targetHeight: Int) -> RGBImage {
        let target = Double(targetWidth) / Double(targetHeight), source = Double(width) / Double(height)
        var cropW = width, cropH = height
        if source > target { cropW = max(2, Int(Double(height) * target)) } else { cropH = max(2, Int(Double(width) / target)) }
        return cropped(x: (width - cropW) / 2, y: (height - cropH) / 2, width: cropW, height: cropH)
            .resized(width: targetWidth, height: targetHeight)
    }

    /// The rectangle at (x, y) of width × height, which must lie inside the picture.
    public func cropped(x: Int, y: Int, width newWidth: Int, height newHeight: Int) -> RGBImage {
        precondition(x >= 0 && y >= 0 && x + newWidth <= width && y + newHeight <= height, "crop must lie inside the picture")
        if x == 0, y == 0, newWidth == width, newHeight == height { return self }
        var out = [UInt8](repeating: 0, count: newWidth * newHeight * 3)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for row in 0..<newHeight {
                    let from = ((y + row) * width + x) * 3
                    (dst.baseAddress! + row * newWidth * 3).update(from: src.baseAddress! + from, count: newWidth * 3)
                }
            }
        }
        return RGBImage(width: newWidth, height: newHeight, pixels: out)
    }

    /// Mean CIE76 ΔE (CIELAB, D65, sampled every 4 pixels) against another image of the same size:
    /// how different the two look. About 1 is at the edge of visible; a wrong YUV matrix on saturated
    /// colours gives 5–10.
    public func meanDeltaE(against other: RGBImage) -> Double {
        precondition(width == other.width && height == other.height, "ΔE needs images of the same size")
        return ColorDifference.meanDeltaE(self, other)
    }

    /// Peak signal-to-noise ratio against another image of the same size, in dB (infinity when equal).
    public func psnr(against other: RGBImage) -> Double {
        precondition(width == other.width && height == other.height, "PSNR needs images of the same size")
        var squaredError = 0.0
        for i in pixels.indices {
            let d = Double(Int(pixels[i]) - Int(other.pixels[i]))
            squaredError += d * d
        }
        guard squaredError > 0 else { return .infinity }
        let mse = squaredError / Double(pixels.count)
        return 10 * log10(255 * 255 / mse)
    }
}

#if canImport(Glibc)
import Glibc
#endif
