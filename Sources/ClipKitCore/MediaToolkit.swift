import Foundation

/// The media work a layer without FFmpeg hands to one that has it: probing a file and reading,
/// resizing and encoding still images. The provider clients take one, so `ClipKitProviders` links no
/// FFmpeg; `ClipKitMedia.FFmpegToolkit` is the real one, and a pipeline may pass its own.
public protocol MediaToolkit: Sendable {
    /// What the file at `path` holds; never throws (problems are in `MediaInfo.error`).
    func probe(_ path: String) -> MediaInfo
    /// Reads a PNG, JPEG or other still image into RGB.
    /// - Throws: an error naming the file when it cannot be read as an image.
    func loadImage(_ path: String) throws -> RGBImage
    /// The picture scaled to `width` × `height`.
    /// - Throws: an error naming the step when the scaler cannot be set up.
    func resize(_ image: RGBImage, width: Int, height: Int) throws -> RGBImage
    /// The picture encoded as PNG or JPEG.
    /// - Throws: an error naming the step when the encoder fails.
    func encode(_ image: RGBImage, as format: ImageFormat) throws -> Data
}
