/// What a media file really contains: the properties providers bill on. A plain value, copied out
/// of FFmpeg by `ClipKitMedia`, so audit and pipeline code can use it without touching a decoder.
///
/// Its JSON form is the `clipkit probe --format json` contract.
public struct MediaInfo: Sendable, Hashable, Codable {
    /// The path or URL that was probed.
    public var path: String
    public var fileSize: Int64?
    /// Short container name: "mp4", "mov", "matroska", …
    public var container: String?
    /// Container duration in seconds.
    public var duration: Double?
    public var video: VideoInfo?
    public var audio: AudioInfo?
    /// Set when the file could not be probed (the other fields are then mostly nil).
    public var error: MediaProblem?

    public init(path: String, fileSize: Int64? = nil, container: String? = nil, duration: Double? = nil,
                video: VideoInfo? = nil, audio: AudioInfo? = nil, error: MediaProblem? = nil) {
        self.path = path
        self.fileSize = fileSize
        self.container = container
        self.duration = duration
        self.video = video
        self.audio = audio
        self.error = error
    }

    /// The resolution tier the video's pixel area falls in.
    public var tier: Tier? { video.flatMap { Tier.classify(width: $0.width, height: $0.height) } }

    enum CodingKeys: String, CodingKey {
        case path, fileSize, container, duration, tier, video, audio, error
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        path = try c.decode(String.self, forKey: .path)
        fileSize = try c.decodeIfPresent(Int64.self, forKey: .fileSize)
        container = try c.decodeIfPresent(String.self, forKey: .container)
        duration = try c.decodeIfPresent(Double.self, forKey: .duration)
        video = try c.decodeIfPresent(VideoInfo.self, forKey: .video)
        audio = try c.decodeIfPresent(AudioInfo.self, forKey: .audio)
        error = try c.decodeIfPresent(MediaProblem.self, forKey: .error)
    }

    /// Encodes every key, with explicit nulls: consumers of the contract rely on the keys existing.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(path, forKey: .path)
        try c.encode(fileSize, forKey: .fileSize)
        try c.encode(container, forKey: .container)
        try c.encode(duration, forKey: .duration)
        try c.encode(tier, forKey: .tier)
        try c.encode(video, forKey: .video)
        try c.encode(audio, forKey: .audio)
        try c.encode(error, forKey: .error)
    }
}

/// The video stream a probe found: codec, sizes, rotation, exact displayed frame count, rate, colour.
public struct VideoInfo: Sendable, Hashable, Codable {
    public var codec: String
    public var profile: String?
    /// Coded (stored) size.
    public var width: Int
    public var height: Int
    /// Size as shown after applying `rotation`.
    public var displayWidth: Int
    public var displayHeight: Int
    /// Clockwise rotation in degrees a player applies: 0, 90, 180 or 270.
    public var rotation: Int
    public var pixelFormat: String?
    /// Average frame rate ("30/1").
    public var frameRate: Rational?
    /// Displayed frames: samples an edit list hides are not counted.
    public var frameCount: Int?
    /// Seconds from the first displayed frame to the end of the last one.
    public var duration: Double?
    public var bitRate: Int?
    /// How its YUV maps to RGB: the file's tags, or the matrix ClipKit uses when it has none.
    public var color: VideoColor?
    /// Set by a deep probe (every frame decoded).
    public var decodedFrames: Int?
    public var decodeErrors: Int?

    public init(codec: String, profile: String? = nil, width: Int, height: Int, displayWidth: Int? = nil,
                displayHeight: Int? = nil, rotation: Int = 0, pixelFormat: String? = nil, frameRate: Rational? = nil,
                frameCount: Int? = nil, duration: Double? = nil, bitRate: Int? = nil, color: VideoColor? = nil,
                decodedFrames: Int? = nil, decodeErrors: Int? = nil) {
        self.codec = codec
        self.profile = profile
        self.width = width
        self.height = height
        self.displayWidth = displayWidth ?? width
        self.displayHeight = displayHeight ?? height
        self.rotation = rotation
        self.pixelFormat = pixelFormat
        self.frameRate = frameRate
        self.frameCount = frameCount
        self.duration = duration
        self.bitRate = bitRate
        self.color = color
        self.decodedFrames = decodedFrames
        self.decodeErrors = decodeErrors
    }

    enum CodingKeys: String, CodingKey {
        case codec, profile, width, height, displayWidth, displayHeight, rotation, pixelFormat, frameRate,
             frameCount, duration, bitRate, color, decodedFrames, decodeErrors
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(codec, forKey: .codec)
        try c.encode(profile, forKey: .profile)
        try c.encode(width, forKey: .width)
        try c.encode(height, forKey: .height)
        try c.encode(displayWidth, forKey: .displayWidth)
        try c.encode(displayHeight, forKey: .displayHeight)
        try c.encode(rotation, forKey: .rotation)
        try c.encode(pixelFormat, forKey: .pixelFormat)
        try c.encode(frameRate, forKey: .frameRate)
        try c.encode(frameCount, forKey: .frameCount)
        try c.encode(duration, forKey: .duration)
        try c.encode(bitRate, forKey: .bitRate)
        try c.encode(color, forKey: .color)
        // Only a deep probe knows these; keep the default contract unchanged otherwise.
        try c.encodeIfPresent(decodedFrames, forKey: .decodedFrames)
        try c.encodeIfPresent(decodeErrors, forKey: .decodeErrors)
    }
}

/// The audio stream a probe found (the best one FFmpeg would choose).
public struct AudioInfo: Sendable, Hashable, Codable {
    public var codec: String
    public var sampleRate: Int
    public var channels: Int
    public var duration: Double?

    public init(codec: String, sampleRate: Int, channels: Int, duration: Double?) {
        self.codec = codec
        self.sampleRate = sampleRate
        self.channels = channels
        self.duration = duration
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(codec, forKey: .codec)
        try c.encode(sampleRate, forKey: .sampleRate)
        try c.encode(channels, forKey: .channels)
        try c.encode(duration, forKey: .duration)
    }
}

/// Why a file could not be probed, as a stable code plus a human message.
public struct MediaProblem: ClipKitError, Hashable, Codable {
    /// Why the probe failed, for a program to switch on (also the CLI's JSON `error.code`).
    public enum Code: String, Sendable, Hashable, Codable, CaseIterable {
        /// No such file.
        case notFound
        /// The file has zero bytes.
        case empty
        /// Not a media file at all (e.g. an XML or HTML error page saved as .mp4).
        case notMedia
        /// A media file whose data or index is cut short.
        case truncated
        /// A media file without a video stream.
        case noVideo
        /// A media file without an audio stream, where one was needed (a voice track for s2v).
        case noAudio
        /// Anything else that stops reading: permissions, a directory, a corrupt header.
        case unreadable
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
