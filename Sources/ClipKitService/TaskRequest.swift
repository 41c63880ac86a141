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

    public init(provider: String, model: String? = nil, prompt: String, negativePrompt: String? = nil, image: String? = nil,
                lastImage: String? = nil, resolution: String? = nil, size: String? = nil, duration: Int? = nil,
                seed: Int? = nil, audio: Bool? = nil) {
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
    }

    /// The tier asked for, if any.
    public var tier: Tier? { resolution.flatMap(Tier.init(parsing:)) }

    /// What the delivered clip must hold to be as asked: the tier and the length.
    public var requirements: ClipRequirements {
        ClipRequirements(tier: tier, duration: duration.map(Double.init))
    }

    /// Checks what can be checked before anything is stored or paid for.
    /// - Throws: `TaskServiceError.invalidRequest` naming the field.
    func validate() throws {
        func invalid(_ message: String) -> TaskServiceError { TaskServiceError(.invalidRequest, message) }
        if prompt.isEmpty, image == nil { throw invalid("give a prompt (and/or an image for i2v)") }
        if lastImage != nil, image == nil { throw invalid("lastImage needs image (kf2v takes both frames)") }
        if let resolution, Tier(parsing: resolution) == nil {
            throw invalid("resolution must be 480P, 720P or 1080P, not '\(resolution)'")
        }
        if let duration, !(1...60).contains(duration) { throw invalid("duration must be 1…60 seconds, not \(duration)") }
        for (field, value) in [("image", image), ("lastImage", lastImage)] {
            guard let value else { continue }
            if InputImage.isURL(value) { continue }
            guard value.hasPrefix("data:") else { throw invalid("\(field) must be an http(s) URL or a data: URI") }
            _ = try InputImage.decode(dataURI: value, field: field)
        }
    }
}

/// A request's images once the service holds them: URLs as given, data URIs saved under the data
/// directory by their content (so a retried request writes the same file again, not a second one).
struct InputImage {
    static func isURL(_ text: String) -> Bool { text.hasPrefix("http://") || text.hasPrefix("https://") }

    /// The bytes and file extension of a `data:image/png;base64,…` URI.
    /// - Throws: `TaskServiceError.invalidRequest` for anything else.
    static func decode(dataURI: String, field: String) throws -> (bytes: Data, ext: String) {
        guard let comma = dataURI.firstIndex(of: ","), dataURI[..<comma].hasSuffix(";base64"),
              let bytes = Data(base64Encoded: String(dataURI[dataURI.index(after: comma)...]), options: .ignoreUnknownCharacters),
              !bytes.isEmpty
        else { throw TaskServiceError(.invalidRequest, "\(field) is not a base64 data: URI") }
        let type = dataURI.dropFirst("data:".count).prefix { $0 != ";" && $0 != "," }.lowercased()
        let ext = switch type {
        case "image/png": "png"
        case "image/jpeg", "image/jpg": "jpg"
        case "image/webp": "webp"
        default: "img"
        }
        return (bytes, ext)
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
