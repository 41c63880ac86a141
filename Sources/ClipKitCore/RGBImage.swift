import Foundation

/// A decoded picture as packed 8-bit RGB, upright and in full-range sRGB-like levels: the value
/// pipelines pass around (to write a PNG, compare frames, submit as the next clip's first frame).
/// A plain value: reading and encoding images is `ClipKitMedia`'s (`RGBImage.load`, `encoded(as:)`).
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

/// Still-image formats ClipKit writes, chosen by file extension.
public enum ImageFormat: String, Sendable, CaseIterable {
    case png, jpeg

    /// The format for a path's extension (.png, .jpg, .jpeg), or nil.
    public init?(path: String) {
        switch URL(fileURLWithPath: path).pathExtension.lowercased() {
        case "png": self = .png
        case "jpg", "jpeg": self = .jpeg
        default: return nil
        }
    }
}
