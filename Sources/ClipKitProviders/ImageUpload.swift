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
