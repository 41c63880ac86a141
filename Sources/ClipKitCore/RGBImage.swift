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
