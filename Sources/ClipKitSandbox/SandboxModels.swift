import ClipKitCore
import Foundation

/// The three protocols the sandbox speaks.
public enum SandboxProtocol: String, Sendable, CaseIterable, Codable {
    case dashscope, wavespeed, modelverse
}

/// What a model delivers, as the providers document it (see shared/providers.md): frame rate,
/// frames for a duration, audio, tiers, and which inputs it takes.
struct ModelProfile: Sendable {
    enum Input: Sendable {
        case text, image, firstLast, imageOrFirstLast
        /// s2v: a reference portrait (`image_url`) and a voice track (`audio_url`).
        case portraitAndVoice
    }

    var input: Input
    var fps: Int
    /// Frames for a duration in seconds.
    var frames: @Sendable (Int) -> Int
    var audio: Bool
    var tiers: [Tier]
    /// The tier named by the model itself (WaveSpeed's `…-480p`), which the request cannot change.
    var fixedTier: Tier?
    /// Durations accepted; the first is the default. Empty: the length follows the input voice.
    var durations: [Int]
    /// DashScope usage shape (0: video_duration+SR+video_ratio, 1: video_count+video_duration,
    /// 2: duration/input_video_duration/output_video_duration/SR/ratio/fps as floats).
    var usageVariant: Int
    /// Hosted services tag BT.709; the open model's reference code writes through imageio (untagged BT.601).
    var color: ClipColor = .bt709Tagged

    /// The hosted Wan 2.2 (DashScope and everyone reselling it): 30 fps, 5 s, 150 frames, silent.
    static func hosted22(_ input: Input, tiers: [Tier], usage: Int, fixedTier: Tier? = nil) -> ModelProfile {
        ModelProfile(input: input, fps: 30, frames: { $0 * 30 }, audio: false, tiers: tiers, fixedTier: fixedTier,
                     durations: [5], usageVariant: usage)
    }

    /// DashScope's `image2video` endpoint takes the models that start from images other than `img_url`.
    var usesImage2VideoEndpoint: Bool { input == .firstLast || input == .portraitAndVoice }

    /// wan2.2-s2v: the clip follows the voice sent (any length, billed to the hundredth of a second),
    /// 480P or 720P, with the voice as its sound. 30 fps like the other hosted Wan 2.2 models (its fps
    /// is not documented: an assumption); usage `{video_count, video_duration}` with a fractional
    /// duration (providers.md: "s2v bills fractional video_duration (e.g. 10.23)").
    static let subjectReference = ModelProfile(input: .portraitAndVoice, fps: 30, frames: { $0 * 30 }, audio: true,
                                               tiers: [.p480, .p720], durations: [], usageVariant: 1)

    /// Wan 2.5 preview: audio on, 24 fps, 5 or 10 s.
    static func hosted25(_ input: Input) -> ModelProfile {
        ModelProfile(input: input, fps: 24, frames: { $0 * 24 }, audio: true, tiers: [.p480, .p720, .p1080],
                     durations: [5, 10], usageVariant: 2)
    }

    /// The open A14B model as self-hosted: 16 fps, 4n+1 frames (81 for 5 s).
    static func open(_ input: Input, tiers: [Tier], durations: [Int] = [5], fixedTier: Tier? = nil) -> ModelProfile {
        ModelProfile(input: input, fps: 16, frames: { $0 * 16 + 1 }, audio: false, tiers: tiers, fixedTier: fixedTier,
                     durations: durations, usageVariant: 1, color: .bt601Untagged)
    }

    static func lookup(_ proto: SandboxProtocol, model: String) -> ModelProfile? {
        switch proto {
        case .dashscope:
            switch model {
            case "wan2.2-t2v-plus": return .hosted22(.text, tiers: [.p480, .p1080], usage: 0)
            case "wan2.2-i2v-plus": return .hosted22(.image, tiers: [.p480, .p1080], usage: 0)
            case "wan2.2-i2v-flash": return .hosted22(.image, tiers: [.p480, .p720, .p1080], usage: 1)
            case "wan2.2-kf2v-flash": return .hosted22(.firstLast, tiers: [.p480, .p720, .p1080], usage: 1)
            case "wan2.2-s2v": return .subjectReference
            case "wan2.5-t2v-preview": return .hosted25(.text)
            case "wan2.5-i2v-preview": return .hosted25(.image)
            default: return nil
            }
        case .wavespeed:
            switch model {
            case "alibaba/wan-2.2/i2v-plus-480p": return .hosted22(.image, tiers: [.p480], usage: 0, fixedTier: .p480)
            case "alibaba/wan-2.2/t2v-plus-480p": return .hosted22(.text, tiers: [.p480], usage: 0, fixedTier: .p480)
            case "wavespeed-ai/wan-2.2/image-to-video": return .open(.imageOrFirstLast, tiers: [.p480, .p720], durations: [5, 8])
            default: return nil
            }
        case .modelverse:
            switch model {
            case "Wan-AI/Wan2.2-I2V": return .open(.imageOrFirstLast, tiers: [.p480, .p720])
            case "Wan-AI/Wan2.2-T2V": return .open(.text, tiers: [.p480, .p720])
            default: return nil
            }
        }
    }

    /// The models each protocol knows, for the sandbox's index page.
    static let known: [SandboxProtocol: [String]] = [
        .dashscope: ["wan2.2-t2v-plus", "wan2.2-i2v-plus", "wan2.2-i2v-flash", "wan2.2-kf2v-flash", "wan2.2-s2v",
                     "wan2.5-t2v-preview", "wan2.5-i2v-preview"],
        .wavespeed: ["alibaba/wan-2.2/i2v-plus-480p", "alibaba/wan-2.2/t2v-plus-480p", "wavespeed-ai/wan-2.2/image-to-video"],
        .modelverse: ["Wan-AI/Wan2.2-I2V", "Wan-AI/Wan2.2-T2V"],
    ]
}

/// Output sizes. A tier is a pixel budget; i2v keeps the input image's aspect by choosing, among the
/// tier's sizes, the one whose aspect is closest (documented t2v sizes plus 4:3 shapes).
enum OutputSize {
    static func candidates(_ tier: Tier) -> [(Int, Int)] {
        switch tier {
        case .p480: [(832, 480), (480, 832), (624, 624), (720, 544), (544, 720)]
        case .p720: [(1280, 720), (720, 1280), (960, 960), (1088, 832), (832, 1088)]
        case .p1080: [(1920, 1080), (1080, 1920), (1440, 1440), (1632, 1248), (1248, 1632)]
        }
    }

    /// The tier's size closest in aspect to width × height.
    static func matching(_ tier: Tier, width: Int, height: Int) -> (Int, Int) {
        let aspect = log(Double(width) / Double(height))
        return candidates(tier).min { abs(log(Double($0.0) / Double($0.1)) - aspect) < abs(log(Double($1.0) / Double($1.1)) - aspect) }!
    }

    /// Parses "832*480" or "832x480".
    static func parse(_ text: String) -> (Int, Int)? {
        let parts = text.split(whereSeparator: { $0 == "*" || $0 == "x" || $0 == "X" })
        guard parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]), w > 0, h > 0 else { return nil }
        return (w, h)
    }

    /// "16:9" for 832×480 (nearest common ratio), as DashScope's usage reports it.
    static func ratio(_ width: Int, _ height: Int) -> String {
        let common = [(16, 9), (9, 16), (1, 1), (4, 3), (3, 4)]
        let aspect = Double(width) / Double(height)
        let best = common.min { abs(Double($0.0) / Double($0.1) - aspect) < abs(Double($1.0) / Double($1.1) - aspect) }!
        return "\(best.0):\(best.1)"
    }
}
