import ClipKitCore
import Foundation

/// `MediaToolkit` on FFmpeg: `MediaProbe.probe`, `RGBImage.load`, `resized` and `encoded(as:)`.
/// Pass it to the provider clients and `TaskRunner`.
public struct FFmpegToolkit: MediaToolkit {
    public init() {}

    public func probe(_ path: String) -> MediaInfo { MediaProbe.probe(path) }

    public func loadImage(_ path: String) throws -> RGBImage { try RGBImage.load(path) }

    public func resize(_ image: RGBImage, width: Int, height: Int) throws -> RGBImage {
        try image.resized(width: width, height: height)
    }

    public func encode(_ image: RGBImage, as format: ImageFormat) throws -> Data { try image.encoded(as: format) }
}
