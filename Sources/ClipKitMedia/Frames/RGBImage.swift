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
}
