import CFFmpeg
import ClipKitCore
import Foundation

/// An image that cannot be written as asked.
public struct ImageError: ClipKitError {
    /// What went wrong, for a program to switch on.
    public enum Code: String, Sendable, Hashable, Codable, CaseIterable {
        /// The path's extension is not .png, .jpg or .jpeg.
        case unknownFormat
    }

    public let code: Code
    public let description: String
}

extension RGBImage {
    /// Encodes the picture as PNG (lossless) or JPEG (quality ~95, full-range BT.601 as JFIF expects)
    /// with libavcodec's encoders.
    /// - Throws: `FFmpegError` if the encoder fails.
    package func encoded(as format: ImageFormat) throws -> Data {
        let rgb = try frame()
        let input: Frame, pixelFormat: AVPixelFormat, codec: AVCodecID
        switch format {
        case .png:
            (input, pixelFormat, codec) = (rgb, AV_PIX_FMT_RGB24, AV_CODEC_ID_PNG)
        case .jpeg:
            let scaler = try Scaler(from: (width, height, AV_PIX_FMT_RGB24), sourceMatrix: SWS_CS_ITU601, sourceFullRange: true,
                                to: (width, height, AV_PIX_FMT_YUVJ420P), targetMatrix: SWS_CS_ITU601, targetFullRange: true)
            (input, pixelFormat, codec) = (try scaler.convert(rgb), AV_PIX_FMT_YUVJ420P, AV_CODEC_ID_MJPEG)
            input.pointer.pointee.quality = 2 * FF_QP2LAMBDA
        }
        input.pointer.pointee.color_range = AVCOL_RANGE_JPEG
        let encoder = try Encoder(codecID: codec, target: "\(format.rawValue) image") { ctx in
            ctx.pointee.width = Int32(width)
            ctx.pointee.height = Int32(height)
            ctx.pointee.pix_fmt = pixelFormat
            ctx.pointee.time_base = AVRational(num: 1, den: 1)
            ctx.pointee.color_range = AVCOL_RANGE_JPEG
            // zlib level 3: most of the size of level 6 at a fraction of the time.
            ctx.pointee.compression_level = 3
            if format == .jpeg { ctx.pointee.flags |= AV_CODEC_FLAG_QSCALE }
        }
        var data = Data()
        try encoder.encode(input) { data.append($0.pointer.pointee.data, count: $0.size) }
        try encoder.encode(nil) { data.append($0.pointer.pointee.data, count: $0.size) }
        return data
    }

    /// Writes the picture to `path` as PNG or JPEG by extension, through a temporary file.
    /// - Throws: `OutputFileError.exists` unless `overwrite`; `ImageError` for an unknown extension.
    package func write(to path: String, overwrite: Bool = false) throws {
        guard let format = ImageFormat(path: path) else {
            throw ImageError(code: .unknownFormat, description: "\(path): unknown image type (not .png, .jpg or .jpeg)")
        }
        let output = try OutputFile(path, overwrite: overwrite)
        try output.write(encoded(as: format))
    }

    /// Reads a PNG, JPEG or other still image (or a video's first frame) into RGB.
    /// - Throws: `MediaProblem` or `FFmpegError` naming the file.
    package static func load(_ path: String) throws -> RGBImage {
        try FrameExtractor.extract(.first, from: path, autorotate: true)
    }
}
