import ClipKitCore
import ClipKitProviders
import Foundation

/// One clip to generate, as a service client asks for it (`POST /v1/tasks`): provider-neutral, with
/// images as http(s) URLs or `data:` URIs only, never local paths (a client must not make the server
/// read its own files).
public struct TaskRequest: Sendable, Hashable, Codable {
    /// `dashscope`, `wavespeed`, `modelverse`, or a name the `ProviderDirectory` knows (`sandbox`).
    public var provider: String
    /// The provider's model name; nil: Wan 2.2 for the mode (`ProviderKind.defaultModel(for:)`).
    public var model: String?
    public var prompt: String
    public var negativePrompt: String?
    /// First frame (i2v, kf2v): an http(s) URL or a `data:image/…;base64,…` URI.
    public var image: String?
    /// Last frame (kf2v), as `image`.
    public var lastImage: String?
    /// `480P`, `720P` or `1080P`.
    public var resolution: String?
    /// An explicit t2v size, `W*H`.
    public var size: String?
    /// Seconds of video asked for (the provider's default, 5, when nil).
    public var duration: Int?
    public var seed: Int?
    /// Audio on or off for models that make it.
    public var audio: Bool?
    /// s2v (with `image` as the reference portrait): the voice track, an http(s) URL or a
    /// `data:audio/…;base64,…` URI. The clip is as long as the voice and billed by it, so no `duration`.
    public var voice: String?

    public init(provider: String, model: String? = nil, prompt: String, negativePrompt: String? = nil, image: String? = nil,
                lastImage: String? = nil, resolution: String? = nil, size: String? = nil, duration: Int? = nil,
                seed: Int? = nil, audio: Bool? = nil, voice: String? = nil) {
        self.provider = provider
        self.model = model
        self.prompt = prompt
        self.negativePrompt = negativePrompt
        self.image = image
        self.lastImage = lastImage
        self.resolution = resolution
        self.size = size
        self.duration = duration
        self.seed = seed
        self.audio = audio
        self.voice = voice
    }

    /// The tier asked for, if any.
    public var tier: Tier? { resolution.flatMap(Tier.init(parsing:)) }

    /// What the delivered clip must hold to be as asked: the tier and the length; for s2v, the length of
    /// the voice as decoded (`voiceSeconds`, unknown for a voice given by URL) and the voice throughout.
    public func requirements(voiceSeconds: Double? = nil) -> ClipRequirements {
        var requirements = ClipRequirements(tier: tier, duration: duration.map(Double.init))
        if let voiceSeconds { requirements.requireVoice(seconds: voiceSeconds) } else if voice != nil {
            requirements.audio = true
            requirements.soundtrackCoversVideo = true
        }
        return requirements
    }

    /// Checks what can be checked before anything is stored or paid for.
    /// - Throws: `TaskServiceError.invalidRequest` naming the field.
    func validate() throws {
        func invalid(_ message: String) -> TaskServiceError { TaskServiceError(.invalidRequest, message) }
        if prompt.isEmpty, image == nil { throw invalid("give a prompt (and/or an image for i2v)") }
        if lastImage != nil, image == nil { throw invalid("lastImage needs image (kf2v takes both frames)") }
        if voice != nil {
            if image == nil { throw invalid("voice needs image, the reference portrait (s2v takes both)") }
            if lastImage != nil { throw invalid("voice (s2v) and lastImage (kf2v) are different modes: give one") }
            if duration != nil { throw invalid("an s2v clip is as long as its voice: drop duration") }
        }
        if let resolution, Tier(parsing: resolution) == nil {
            throw invalid("resolution must be 480P, 720P or 1080P, not '\(resolution)'")
        }
        if let duration, !(1...60).contains(duration) { throw invalid("duration must be 1…60 seconds, not \(duration)") }
        for (field, value, kind) in [("image", image, InputData.Kind.image), ("lastImage", lastImage, .image), ("voice", voice, .audio)] {
            guard let value else { continue }
            if InputData.isURL(value) { continue }
            guard value.hasPrefix("data:") else { throw invalid("\(field) must be an http(s) URL or a data: URI") }
            _ = try InputData.decode(dataURI: value, field: field, kind: kind)
        }
    }
}

/// A request's images and voice once the service holds them: URLs as given, data URIs saved under the
/// data directory by their content (so a retried request writes the same file again, not a second one).
struct InputData {
    enum Kind { case image, audio }

    static func isURL(_ text: String) -> Bool { text.hasPrefix("http://") || text.hasPrefix("https://") }

    /// File extensions by MIME type: what the provider and FFmpeg recognise the saved file by.
    private static let extensions: [String: String] = [
        "image/png": "png", "image/jpeg": "jpg", "image/jpg": "jpg", "image/webp": "webp",
        "audio/mpeg": "mp3", "audio/mp3": "mp3", "audio/wav": "wav", "audio/x-wav": "wav", "audio/wave": "wav",
        "audio/mp4": "m4a", "audio/aac": "aac", "audio/ogg": "ogg", "audio/flac": "flac",
    ]

    /// The bytes and file extension of a `data:image/png;base64,…` (or `data:audio/…`) URI.
    /// - Throws: `TaskServiceError.invalidRequest` for anything else, or a type of the other kind.
    static func decode(dataURI: String, field: String, kind: Kind) throws -> (bytes: Data, ext: String) {
        guard let comma = dataURI.firstIndex(of: ","), dataURI[..<comma].hasSuffix(";base64"),
              let bytes = Data(base64Encoded: String(dataURI[dataURI.index(after: comma)...]), options: .ignoreUnknownCharacters),
              !bytes.isEmpty
        else { throw TaskServiceError(.invalidRequest, "\(field) is not a base64 data: URI") }
        let type = dataURI.dropFirst("data:".count).prefix { $0 != ";" && $0 != "," }.lowercased()
        let prefix = kind == .image ? "image/" : "audio/"
        guard type.hasPrefix(prefix) else {
            throw TaskServiceError(.invalidRequest, "\(field) must be a data:\(prefix)… URI, not \(type.isEmpty ? "untyped" : type)")
        }
        return (bytes, extensions[type] ?? (kind == .image ? "img" : "audio"))
    }
}

/// A service call refused or failed: what kind (`code`, stable for HTTP mapping) and why.
public struct TaskServiceError: ClipKitError, Equatable {
    public enum Code: String, Sendable, Hashable, Codable, CaseIterable {
        /// The request is malformed (HTTP 400/422).
        case invalidRequest
        /// The provider is not one the service can reach (no key, unknown name) (HTTP 400).
        case unknownProvider
        /// No price is known for the request, so the budget cannot be kept (HTTP 422).
        case unpriced
    }

    public var code: Code
    public var description: String

    public init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }

    /// Errors are equal when their codes are: the message is for people, the code for callers.
    public static func == (a: TaskServiceError, b: TaskServiceError) -> Bool { a.code == b.code }
}
