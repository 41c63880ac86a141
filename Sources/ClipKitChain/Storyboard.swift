import ClipKitCore
import Foundation
import Yams

/// A long video as a list of 5-second generations: defaults, an optional first image, and segments.
/// Segment 1 is t2v, or i2v from the first image; every next segment starts from the previous clip's
/// exact last frame (i2v), or also aims at a target last frame (kf2v). A segment with `audio` is s2v:
/// the same picture (first image or last frame) as the reference portrait, talking for as long as the
/// voice lasts.
///
/// ```json
/// {"defaults": {"provider": "dashscope", "resolution": "480P", "seed": 7},
///  "firstImage": "first.png",
///  "segments": [{"prompt": "a lighthouse at dawn"}, {"prompt": "the camera rises", "lastImage": "top.png"}]}
/// ```
public struct Storyboard: Sendable, Hashable, Codable {
    /// What every segment uses unless it says otherwise.
    public struct Defaults: Sendable, Hashable, Codable {
        /// dashscope, wavespeed or modelverse.
        public var provider: String?
        /// A model for every segment but s2v ones; per mode: `t2vModel`, `i2vModel`, `kf2vModel`, `s2vModel`
        /// (which win over `model`); else the provider's default.
        public var model: String?
        public var t2vModel: String?
        public var i2vModel: String?
        public var kf2vModel: String?
        public var s2vModel: String?
        public var resolution: String?
        public var seed: Int?
        /// Seconds per segment (default 5).
        public var duration: Int?
        public var negativePrompt: String?
        /// Audio for models that make it (wan2.5); nil leaves the provider's default.
        public var audio: Bool?

        public init(provider: String? = nil, model: String? = nil, resolution: String? = nil, seed: Int? = nil) {
            self.provider = provider
            self.model = model
            self.resolution = resolution
            self.seed = seed
        }
    }

    /// One generation of the story: its prompt and what it changes from the defaults.
    public struct Segment: Sendable, Hashable, Codable {
        public var prompt: String
        /// A target last frame (kf2v).
        public var lastImage: String?
        /// A voice track (s2v), relative to the storyboard: the segment lasts as long as it.
        public var audio: String?
        public var model: String?
        public var seed: Int?
        public var negativePrompt: String?

        public init(prompt: String, lastImage: String? = nil, model: String? = nil, seed: Int? = nil, audio: String? = nil) {
            self.prompt = prompt
            self.lastImage = lastImage
            self.audio = audio
            self.model = model
            self.seed = seed
        }
    }

    public var defaults: Defaults
    public var firstImage: String?
    public var segments: [Segment]

    public init(defaults: Defaults = Defaults(), firstImage: String? = nil, segments: [Segment]) {
        self.defaults = defaults
        self.firstImage = firstImage
        self.segments = segments
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        defaults = try c.decodeIfPresent(Defaults.self, forKey: .defaults) ?? Defaults()
        firstImage = try c.decodeIfPresent(String.self, forKey: .firstImage)
        segments = try c.decode([Segment].self, forKey: .segments)
    }

    /// The tier every segment asks for (default 480P).
    public var tier: Tier { defaults.resolution.flatMap(Tier.init(parsing:)) ?? .p480 }
    public var secondsPerSegment: Int { defaults.duration ?? 5 }

    /// Reads a storyboard from JSON or YAML (by extension: .yaml/.yml, else JSON). Relative image paths
    /// are resolved against the storyboard's folder.
    /// - Throws: `StoryboardError` naming the file and what is wrong.
    public static func load(_ path: String) throws -> Storyboard {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw StoryboardError(.unreadable, path: path, message: "cannot read it: \(error.localizedDescription)")
        }
        var board: Storyboard
        do {
            if path.lowercased().hasSuffix(".yaml") || path.lowercased().hasSuffix(".yml") {
                board = try YAMLDecoder().decode(Storyboard.self, from: String(decoding: data, as: UTF8.self))
            } else {
                board = try JSONDecoder().decode(Storyboard.self, from: data)
            }
        } catch let error as DecodingError {
            throw StoryboardError(.invalid, path: path, message: describe(error))
        } catch {
            throw StoryboardError(.invalid, path: path, message: "\(error)")
        }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        func resolve(_ image: String?) -> String? {
            image.map { $0.hasPrefix("/") || $0.contains("://") ? $0 : folder.appendingPathComponent($0).path }
        }
        board.firstImage = resolve(board.firstImage)
        for i in board.segments.indices {
            board.segments[i].lastImage = resolve(board.segments[i].lastImage)
            board.segments[i].audio = resolve(board.segments[i].audio)
        }
        try board.validate(path: path)
        return board
    }

    func validate(path: String) throws {
        guard !segments.isEmpty else { throw StoryboardError(.invalid, path: path, message: "it has no segments") }
        if let resolution = defaults.resolution, Tier(parsing: resolution) == nil {
            throw StoryboardError(.invalid, path: path, message: "defaults.resolution must be 480P, 720P or 1080P, not '\(resolution)'")
        }
        for (i, segment) in segments.enumerated() where segment.prompt.trimmingCharacters(in: .whitespaces).isEmpty {
            throw StoryboardError(.invalid, path: path, message: "segment \(i + 1) has an empty prompt")
        }
        for image in [firstImage] + segments.map(\.lastImage) {
            if let image, !image.contains("://"), !FileManager.default.fileExists(atPath: image) {
                throw StoryboardError(.imageNotFound, path: path, message: "image \(image) does not exist")
            }
        }
        for (i, segment) in segments.enumerated() {
            guard let audio = segment.audio else { continue }
            if segment.lastImage != nil {
                throw StoryboardError(.invalid, path: path, message: "segment \(i + 1) has both lastImage (kf2v) and audio (s2v)")
            }
            if i == 0, firstImage == nil {
                throw StoryboardError(.invalid, path: path, message: "segment 1 is s2v (it has audio) and needs firstImage as its portrait")
            }
            if !audio.contains("://"), !FileManager.default.fileExists(atPath: audio) {
                throw StoryboardError(.audioNotFound, path: path, message: "audio \(audio) does not exist")
            }
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context): "missing '\(key.stringValue)' at \(pathText(context.codingPath))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            "\(context.debugDescription) at \(pathText(context.codingPath))"
        @unknown default: "\(error)"
        }
    }

    private static func pathText(_ path: [CodingKey]) -> String {
        path.isEmpty ? "the top level" : path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
    }
}

/// A storyboard that cannot be used, naming its file and what is wrong.
public struct StoryboardError: ClipKitError {
    /// What is wrong with the storyboard, for a program to switch on.
    public enum Code: String, Sendable, Hashable, Codable, CaseIterable {
        /// The storyboard file cannot be read.
        case unreadable
        /// It reads, but is not a valid storyboard.
        case invalid
        /// An image it names (first image, a segment's last image) does not exist.
        case imageNotFound
        /// A segment's voice track (s2v) does not exist.
        case audioNotFound
    }

    public let code: Code
    public let path: String
    public let message: String

    init(_ code: Code, path: String, message: String) {
        self.code = code
        self.path = path
        self.message = message
    }

    public var description: String { "storyboard \(path): \(message)" }
}
