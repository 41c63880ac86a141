import CFFmpeg
import ClipKitCore

/// Measurements on YUV 4:2:0 pictures: the similarity that decides a repeated seam frame, PSNR,
/// per-plane statistics, and blending for cross-fades. Colour correction is `ColorTransform`.
enum PlaneMath {
    /// Mean and standard deviation of one plane (sampled every `step` pixels each way).
    static func stats(_ frame: Frame, plane: Int, step: Int = 2) -> (mean: Double, std: Double) {
        let (w, h) = planeSize(frame, plane)
        let stride = Int(frame.strides[plane]), data = frame.planes[plane]!
        var sum = 0.0, sumSquares = 0.0, n = 0.0
        for y in Swift.stride(from: 0, to: h, by: step) {
            let row = data + y * stride
            for x in Swift.stride(from: 0, to: w, by: step) {
                let v = Double(row[x])
                sum += v
                sumSquares += v * v
                n += 1
            }
        }
        let mean = sum / n
        return (mean, max(0, sumSquares / n - mean * mean).squareRoot())
    }

    /// PSNR of the luma planes after normalising each to the same mean and contrast: high for the
    /// same picture even when a new generation shifted its brightness or colour, low for motion.
    static func similarity(_ a: Frame, _ b: Frame) -> Double {
        let sa = stats(a, plane: 0), sb = stats(b, plane: 0)
        let (w, h) = planeSize(a, 0)
        let strideA = Int(a.strides[0]), strideB = Int(b.strides[0])
        var squared = 0.0, n = 0.0
        let scaleA = 50 / max(sa.std, 1), scaleB = 50 / max(sb.std, 1)
        for y in Swift.stride(from: 0, to: h, by: 2) {
            let rowA = a.planes[0]! + y * strideA, rowB = b.planes[0]! + y * strideB
            for x in Swift.stride(from: 0, to: w, by: 2) {
                let d = (Double(rowA[x]) - sa.mean) * scaleA - (Double(rowB[x]) - sb.mean) * scaleB
                squared += d * d
                n += 1
            }
        }
        guard squared > 0 else { return 99 }
        return min(99, 10 * log10(255 * 255 / (squared / n)))
    }

    /// PSNR over all three planes of two same-size 4:2:0 pictures (as ffmpeg's psnr filter's "average").
    static func psnr(_ a: Frame, _ b: Frame) -> Double {
        var squared = 0.0, n = 0.0
        for plane in 0..<3 {
            let (w, h) = planeSize(a, plane)
            for y in 0..<h {
                let ra = a.planes[plane]! + y * Int(a.strides[plane]), rb = b.planes[plane]! + y * Int(b.strides[plane])
                for x in 0..<w {
                    let d = Double(Int(ra[x]) - Int(rb[x]))
                    squared += d * d
                }
            }
            n += Double(w * h)
        }
        return squared > 0 ? 10 * log10(255 * 255 / (squared / n)) : 99
    }

    /// Blends `a` towards `b` by `weight` (0 = a, 1 = b) into a new frame.
    static func blend(_ a: Frame, _ b: Frame, weight: Double) throws(FFmpegError) -> Frame {
        let out = try Frame.picture(width: a.width, height: a.height, format: a.pixelFormat)
        let wb = Int((weight * 256).rounded()), wa = 256 - wb
        for plane in 0..<3 {
            let (w, h) = planeSize(a, plane)
            for y in 0..<h {
                let ra = a.planes[plane]! + y * Int(a.strides[plane]), rb = b.planes[plane]! + y * Int(b.strides[plane])
                let ro = out.planes[plane]! + y * Int(out.strides[plane])
                for x in 0..<w { ro[x] = UInt8((Int(ra[x]) * wa + Int(rb[x]) * wb + 128) >> 8) }
            }
        }
        return out
    }

    static func planeSize(_ frame: Frame, _ plane: Int) -> (Int, Int) {
        plane == 0 ? (frame.width, frame.height) : ((frame.width + 1) / 2, (frame.height + 1) / 2)
    }
}

/// An affine colour transform in YUV (each output channel = a·Y + b·U + c·V + d), fitted by least
/// squares so that one picture's colours land on another's. Cross-channel terms matter: a model's
/// drift warms and flattens the picture, which moves Y, U and V together.
struct ColorTransform {
    /// Rows for Y, U, V: [a, b, c, d].
    var rows: [[Double]]

    static let identity = ColorTransform(rows: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]])

    /// The transform taking `source`'s colours to `target`'s, from pixels at the same places (the two
    /// pictures show nearly the same scene, as at a seam). A small pull towards identity keeps flat
    /// pictures from producing wild fits.
    static func fit(from source: Frame, to target: Frame) -> ColorTransform {
        var normal = [[Double]](repeating: [Double](repeating: 0, count: 4), count: 4)
        var right = [[Double]](repeating: [Double](repeating: 0, count: 4), count: 3)
        let (cw, ch) = PlaneMath.planeSize(source, 1)
        for cy in Swift.stride(from: 0, to: ch, by: 2) {
            for cx in Swift.stride(from: 0, to: cw, by: 2) {
                let s = sample(source, cx, cy), t = sample(target, cx, cy)
                let v = [s.0, s.1, s.2, 1.0], out = [t.0, t.1, t.2]
                for i in 0..<4 {
                    for j in 0..<4 { normal[i][j] += v[i] * v[j] }
                    for k in 0..<3 { right[k][i] += v[i] * out[k] }
                }
            }
        }
        let ridge = 1e-3 * (normal[0][0] + normal[1][1] + normal[2][2]) / 3
        let rows = (0..<3).map { k -> [Double] in
            var a = normal, b = right[k]
            for i in 0..<3 {
                a[i][i] += ridge
                b[i] += ridge * (i == k ? 1 : 0)
            }
            return solve(a, b) ?? identity.rows[k]
        }
        return ColorTransform(rows: rows)
    }

    /// Applies the transform in place (chroma first, from the original luma).
    func apply(to frame: Frame) throws(FFmpegError) {
        try frame.makeWritable()
        let (cw, ch) = PlaneMath.planeSize(frame, 1)
        let ys = Int(frame.strides[0]), us = Int(frame.strides[1]), vs = Int(frame.strides[2])
        let yp = frame.planes[0]!, up = frame.planes[1]!, vp = frame.planes[2]!
        let r = rows
        for cy in 0..<ch {
            for cx in 0..<cw {
                let (y, u, v) = ColorTransform.sample(frame, cx, cy)
                up[cy * us + cx] = clamp(r[1][0] * y + r[1][1] * u + r[1][2] * v + r[1][3])
                vp[cy * vs + cx] = clamp(r[2][0] * y + r[2][1] * u + r[2][2] * v + r[2][3])
                // Luma of this 2×2 block with the block's original chroma.
                let offset = r[0][1] * u + r[0][2] * v + r[0][3]
                for dy in 0..<2 where cy * 2 + dy < frame.height {
                    for dx in 0..<2 where cx * 2 + dx < frame.width {
                        let i = (cy * 2 + dy) * ys + cx * 2 + dx
                        yp[i] = clamp(r[0][0] * Double(yp[i]) + offset)
                    }
                }
            }
        }
    }

    /// Mean luma of a 2×2 block and its chroma sample.
    private static func sample(_ frame: Frame, _ cx: Int, _ cy: Int) -> (Double, Double, Double) {
        let ys = Int(frame.strides[0]), yp = frame.planes[0]!
        let x = cx * 2, y = cy * 2
        let x1 = min(x + 1, frame.width - 1), y1 = min(y + 1, frame.height - 1)
        let luma = (Int(yp[y * ys + x]) + Int(yp[y * ys + x1]) + Int(yp[y1 * ys + x]) + Int(yp[y1 * ys + x1]))
        return (Double(luma) / 4, Double(frame.planes[1]![cy * Int(frame.strides[1]) + cx]),
                Double(frame.planes[2]![cy * Int(frame.strides[2]) + cx]))
    }

    private func clamp(_ value: Double) -> UInt8 { UInt8(max(0, min(255, value.rounded()))) }

    /// Gaussian elimination with partial pivoting; nil if singular.
    private static func solve(_ matrix: [[Double]], _ vector: [Double]) -> [Double]? {
        var a = matrix, b = vector
        let n = b.count
        for col in 0..<n {
            guard let pivot = (col..<n).max(by: { abs(a[$0][col]) < abs(a[$1][col]) }), abs(a[pivot][col]) > 1e-12 else { return nil }
            a.swapAt(col, pivot)
            b.swapAt(col, pivot)
            for row in (col + 1)..<n {
                let f = a[row][col] / a[col][col]
                for k in col..<n { a[row][k] -= f * a[col][k] }
                b[row] -= f * b[col]
            }
        }
        var x = [Double](repeating: 0, count: n)
        for row in stride(from: n - 1, through: 0, by: -1) {
            x[row] = (b[row] - ((row + 1)..<n).reduce(0) { $0 + a[row][$1] * x[$1] }) / a[row][row]
        }
        return x
    }
}

/// Colour difference between two pictures as people see it.
enum ColorDifference {
    /// Mean CIE76 ΔE between corresponding pixels (sampled on a grid), in CIELAB with a D65 white.
    static func meanDeltaE(_ a: RGBImage, _ b: RGBImage, step: Int = 4) -> Double {
        precondition(a.width == b.width && a.height == b.height)
        var total = 0.0, n = 0.0
        for y in stride(from: 0, to: a.height, by: step) {
            for x in stride(from: 0, to: a.width, by: step) {
                let i = (y * a.width + x) * 3
                let la = lab(a.pixels[i], a.pixels[i + 1], a.pixels[i + 2]), lb = lab(b.pixels[i], b.pixels[i + 1], b.pixels[i + 2])
                total += ((la.0 - lb.0) * (la.0 - lb.0) + (la.1 - lb.1) * (la.1 - lb.1) + (la.2 - lb.2) * (la.2 - lb.2)).squareRoot()
                n += 1
            }
        }
        return total / n
    }

    /// sRGB (8-bit) to CIELAB.
    static func lab(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> (Double, Double, Double) {
        func linear(_ c: UInt8) -> Double {
            let v = Double(c) / 255
            return v <= 0.04045 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4)
        }
        let (lr, lg, lb) = (linear(r), linear(g), linear(b))
        let x = (0.4124 * lr + 0.3576 * lg + 0.1805 * lb) / 0.95047
        let y = 0.2126 * lr + 0.7152 * lg + 0.0722 * lb
        let z = (0.0193 * lr + 0.1192 * lg + 0.9505 * lb) / 1.08883
        func f(_ t: Double) -> Double { t > 216.0 / 24389 ? cbrt(t) : (24389.0 / 27 * t + 16) / 116 }
        let (fx, fy, fz) = (f(x), f(y), f(z))
        return (116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz))
    }
}

#if canImport(Glibc)
import Glibc
#endif
