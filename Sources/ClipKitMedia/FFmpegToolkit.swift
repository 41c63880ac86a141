import ClipKitCore
import Foundation

/// `MediaToolkit` on FFmpeg: `MediaProbe.probe` and `probeAudio`, `RGBImage.load`, `resized` and
/// `encoded(as:)`, each on the media executor. Pass it to the provider clients and `TaskRunner`.
public struct FFmpegToolkit: MediaToolkit {
    public init() {}

    public func probe(_ path: String) async -> MediaInfo { await MediaProbe.probe(path) }

    public func probeAudio(_ path: String) async -> MediaInfo { await MediaProbe.probeAudio(path) }

    public func loadImage(_ path: String) async throws -> RGBImage { try await RGBImage.load(path) }

    public func resize(_ image: RGBImage, width: Int, height: Int) async throws -> RGBImage {
        try await image.resized(width: width, height: height)
    }

    public func encode(_ image: RGBImage, as format: ImageFormat) async throws -> Data { try await image.encoded(as: format) }
}
