import ClipKitCore
import Foundation

/// An image made ready to send: encoded bytes within the providers' limits.
struct EncodedImage: Sendable {
    var data: Data
    var mimeType: String
    var width: Int
    var height: Int

    /// `data:image/png;base64,…`, as DashScope and ModelVerse accept in place of a URL.
    var dataURI: String { "data:\(mimeType);base64,\(data.base64EncodedString())" }
}

/// Turns `ImageInput`s into what providers accept. DashScope's kf2v limits are the strictest and are
/// applied to every local image: 360–2000 px a side, at most 10 MB, PNG without alpha (or JPEG).
enum ImagePreparation {
    static let maxSide = 2000
    static let minSide = 360
    static let maxBytes = 10 << 20

    /// Reads and encodes a local image or in-memory picture; nil for a URL (sent as is).
    /// - Throws: `ProviderError.imageUnreadable` naming the file when it cannot be read or encoded.
    static func encode(_ input: ImageInput, provider: String, media: any MediaToolkit) throws -> EncodedImage? {
        let image: RGBImage
        switch input {
        case .url: return nil
        case .image(let picture): image = picture
        case .file(let path):
            do {
                // RGBImage has no alpha channel: a transparent PNG comes out flattened to its RGB.
                image = try media.loadImage(path)
            } catch {
                throw ProviderError.imageUnreadable(provider: provider, image: path, "cannot read it: \(error)")
            }
        }
        do {
            let fitted = try fitted(image, media: media)
            let png = try media.encode(fitted, as: .png)
            if png.count <= maxBytes {
                return EncodedImage(data: png, mimeType: "image/png", width: fitted.width, height: fitted.height)
            }
            let jpeg = try media.encode(fitted, as: .jpeg)
            return EncodedImage(data: jpeg, mimeType: "image/jpeg", width: fitted.width, height: fitted.height)
        } catch {
            throw ProviderError.imageUnreadable(provider: provider, image: input.label, "cannot encode it: \(error)")
        }
    }

    /// The picture scaled so no side exceeds 2000 px and none is under 360 px, keeping its aspect.
    static func fitted(_ image: RGBImage, media: any MediaToolkit) throws -> RGBImage {
        let longest = max(image.width, image.height), shortest = min(image.width, image.height)
        var scale = 1.0
        if longest > maxSide { scale = Double(maxSide) / Double(longest) }
        if Double(shortest) * scale < Double(minSide) { scale = Double(minSide) / Double(shortest) }
        guard scale != 1 else { return image }
        let width = min(maxSide, max(minSide, Int((Double(image.width) * scale).rounded())))
        let height = min(maxSide, max(minSide, Int((Double(image.height) * scale).rounded())))
        return try media.resize(image, width: width, height: height)
    }
}

extension ImageInput {
    /// How the image is named in messages (never its pixels).
    var label: String {
        switch self {
        case .file(let path): path
        case .url(let url): url
        case .image(let image): "in-memory \(image.width)x\(image.height) image"
        }
    }
}

/// A voice track made ready to send (s2v): its bytes, type and decoded length.
struct EncodedAudio: Sendable {
    var data: Data
    var mimeType: String
    /// Seconds of sound, decoded: what the clip and its bill should last.
    var duration: Double

    /// `data:audio/mpeg;base64,…`: inline, like DashScope's images (see `AudioPreparation`).
    var dataURI: String { "data:\(mimeType);base64,\(data.base64EncodedString())" }
}

/// Turns an `AudioInput` into what DashScope accepts. A local file is sent inline as a data URI, as
/// local images are: DashScope documents inline data for image inputs, and a router exposes no upload
/// endpoint (DashScope's own temporary upload gives `oss://` URLs valid only for the account that made
/// them). Its bytes are sent as they are; the length is decoded first, both to refuse a file with no
/// sound before anything is paid for and to record what the clip should last.
enum AudioPreparation {
    /// Reads and measures a local voice track; nil for a URL (sent as is, not fetched).
    /// - Throws: `ProviderError.audioUnreadable` naming the file and the failed step.
    static func encode(_ input: AudioInput, provider: String, media: any MediaToolkit) throws -> EncodedAudio? {
        guard case .file(let path) = input else { return nil }
        let info = media.probeAudio(path)
        if let problem = info.error {
            throw ProviderError.audioUnreadable(provider: provider, audio: path, "cannot use it as a voice track: \(problem)")
        }
        guard let duration = info.audio?.duration, duration > 0 else {
            throw ProviderError.audioUnreadable(provider: provider, audio: path, "it decodes to no sound")
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ProviderError.audioUnreadable(provider: provider, audio: path, "cannot read it: \(error.localizedDescription)")
        }
        return EncodedAudio(data: data, mimeType: mimeType(container: info.container, path: path), duration: duration)
    }

    /// The MIME type of a sound file, from the container FFmpeg found (else the extension).
    static func mimeType(container: String?, path: String) -> String {
        let byContainer = ["mp3": "audio/mpeg", "wav": "audio/wav", "mp4": "audio/mp4", "mov": "audio/mp4",
                           "aac": "audio/aac", "ogg": "audio/ogg", "flac": "audio/flac"]
        let byExtension = ["mp3": "audio/mpeg", "wav": "audio/wav", "m4a": "audio/mp4", "aac": "audio/aac",
                           "ogg": "audio/ogg", "flac": "audio/flac"]
        return container.flatMap { byContainer[$0] } ?? byExtension[(path as NSString).pathExtension.lowercased()]
            ?? "application/octet-stream"
    }
}
