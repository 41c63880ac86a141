import ClipKitCore
import Foundation

/// A picture to send as a task's first or last frame.
public enum ImageInput: Sendable, Hashable {
    /// A local PNG/JPEG/… file, read and re-encoded as PNG.
    case file(String)
    /// A picture already in memory (e.g. a clip's exact last frame).
    case image(RGBImage)
    /// A public http(s) URL, passed through untouched.
    case url(String)
}

/// What kind of generation a request is, from the images it carries.
public enum GenerationMode: String, Sendable, Hashable, Codable {
    /// Text to video: no image.
    case t2v
    /// Image to video: a first frame.
    case i2v
    /// First and last frame ("key frames") to video.
    case kf2v
}

/// One clip to generate, in provider-neutral terms; each client maps it to its own JSON.
public struct GenerationRequest: Sendable, Hashable {
    /// The model as the provider names it (`wan2.2-i2v-plus`, `alibaba/wan-2.2/i2v-plus-480p`, `Wan-AI/Wan2.2-I2V`).
    public var model: String
    public var prompt: String
    public var negativePrompt: String?
    public var firstImage: ImageInput?
    public var lastImage: ImageInput?
    /// The tier ("480P"); providers that take a size get the tier's default size.
    public var resolution: Tier?
    /// An explicit `W*H` size for t2v, e.g. "480*832"; wins over `resolution` where a provider takes sizes.
    public var size: String?
    /// Seconds of video asked for; nil leaves the provider's default (5).
    public var duration: Int?
    public var seed: Int?
    /// Audio on/off for models that generate it (wan2.5); nil leaves the provider's default.
    public var audio: Bool?
    /// DashScope `prompt_extend`, WaveSpeed `enable_prompt_expansion`.
    public var promptExtend: Bool?
    /// Extra `parameters` members passed through as given (provider-specific knobs).
    public var extraParameters: [String: JSONValue]

    public init(model: String, prompt: String, negativePrompt: String? = nil, firstImage: ImageInput? = nil,
                lastImage: ImageInput? = nil, resolution: Tier? = nil, size: String? = nil, duration: Int? = nil,
                seed: Int? = nil, audio: Bool? = nil, promptExtend: Bool? = nil, extraParameters: [String: JSONValue] = [:]) {
        self.model = model
        self.prompt = prompt
        self.negativePrompt = negativePrompt
        self.firstImage = firstImage
        self.lastImage = lastImage
        self.resolution = resolution
        self.size = size
        self.duration = duration
        self.seed = seed
        self.audio = audio
        self.promptExtend = promptExtend
        self.extraParameters = extraParameters
    }

    public var mode: GenerationMode {
        if lastImage != nil { return .kf2v }
        return firstImage == nil ? .t2v : .i2v
    }
}

extension Tier {
    /// The landscape size a provider uses for this tier when only the tier is given.
    public var defaultSize: (width: Int, height: Int) {
        switch self {
        case .p480: (832, 480)
        case .p720: (1280, 720)
        case .p1080: (1920, 1080)
        }
    }
}
