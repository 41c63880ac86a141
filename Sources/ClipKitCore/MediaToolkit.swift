import Foundation

/// The media work a layer without FFmpeg hands to one that has it: probing a file and reading,
/// resizing and encoding still images. The provider clients take one, so `ClipKitProviders` links no
/// FFmpeg; `ClipKitMedia.FFmpegToolkit` is the real one, and a pipeline may pass its own. Every call is
/// `async`: an implementation runs its blocking work off Swift's cooperative pool (FFmpegToolkit uses
/// `MediaExecutor`).
public protocol MediaToolkit: Sendable {
    /// What the file at `path` holds; never throws (problems are in `MediaInfo.error`).
    func probe(_ path: String) async -> MediaInfo
    /// What the sound file at `path` holds, its `audio.duration` measured by decoding (an s2v voice);
    /// never throws (`MediaProblem.Code.noAudio` when it has no audio stream).
    func probeAudio(_ path: String) async -> MediaInfo
    /// Reads a PNG, JPEG or other still image into RGB.
    /// - Throws: an error naming the file when it cannot be read as an image.
    func loadImage(_ path: String) async throws -> RGBImage
    /// The picture scaled to `width` × `height`.
    /// - Throws: an error naming the step when the scaler cannot be set up.
    func resize(_ image: RGBImage, width: Int, height: Int) async throws -> RGBImage
    /// The picture encoded as PNG or JPEG.
    /// - Throws: an error naming the step when the encoder fails.
    func encode(_ image: RGBImage, as format: ImageFormat) async throws -> Data
}
