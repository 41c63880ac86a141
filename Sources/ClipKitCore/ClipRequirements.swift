/// The properties a clip was billed for, checked against what it really contains: what
/// `clipkit verify` checks and what a chain run requires before it accepts a clip. Length and tier
/// are judged by `AsBilledRule`, the rule the audit uses too.
public struct ClipRequirements: Sendable, Hashable, Codable {
    public var tier: Tier?
    /// Billed seconds of video.
    public var duration: Double?
    /// How much shorter (and whether longer) than `duration` still passes.
    public var rule: AsBilledRule
    public var fps: Double?
    public var audio: Bool?
    /// The audio track must last as long as the video (s2v: the voice runs the whole clip).
    public var soundtrackCoversVideo: Bool

    public init(tier: Tier? = nil, duration: Double? = nil, rule: AsBilledRule = AsBilledRule(), fps: Double? = nil,
                audio: Bool? = nil, soundtrackCoversVideo: Bool = false) {
        self.tier = tier
        self.duration = duration
        self.rule = rule
        self.fps = fps
        self.audio = audio
        self.soundtrackCoversVideo = soundtrackCoversVideo
    }

    /// What `clipkit verify --tier --duration --tolerance-frames --fps --audio` checks (and `POST /v1/clips`
    /// with `requirements`): one place that turns those five answers into requirements.
    public init(tier: Tier?, duration: Double?, toleranceFrames: Double, fps: Double?, audio: Bool?) {
        self.init(tier: tier, duration: duration, rule: AsBilledRule(toleranceFrames: toleranceFrames), fps: fps, audio: audio)
    }

    /// s2v: the clip must be as long as the voice it was made from, `seconds` as decoded, and not longer
    /// either (its last frame should end where the voice does), with a soundtrack that runs the whole clip.
    public mutating func requireVoice(seconds: Double) {
        duration = seconds
        rule.acceptsLonger = false
        audio = true
        soundtrackCoversVideo = true
    }

    /// One property that does not match.
    /// As JSON (the ledger, the API): `property`, `expected`, `actual`, and the `message` people read.
    public struct Failure: Sendable, Hashable, Codable, CustomStringConvertible {
        /// The property checked; its raw value names it in messages ("tier: expected …").
        public enum Property: String, Sendable, Hashable, Codable, CaseIterable {
            case file, tier, fps, duration, audio
        }

        public var property: Property
        public var expected: String
        public var actual: String
        public var description: String { "\(property.rawValue): expected \(expected), got \(actual)" }

        public init(property: Property, expected: String, actual: String) {
            self.property = property
            self.expected = expected
            self.actual = actual
        }

        private enum CodingKeys: String, CodingKey { case property, expected, actual, message }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(property: try c.decode(Property.self, forKey: .property), expected: try c.decode(String.self, forKey: .expected),
                      actual: try c.decode(String.self, forKey: .actual))
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(property, forKey: .property)
            try c.encode(expected, forKey: .expected)
            try c.encode(actual, forKey: .actual)
            try c.encode(description, forKey: .message)
        }
    }

    /// Every requirement `info` fails; empty when the clip is as billed.
    public func failures(of info: MediaInfo) -> [Failure] {
        if let error = info.error, info.video == nil {
            return [Failure(property: .file, expected: "a readable video", actual: "\(error.code.rawValue): \(error.message)")]
        }
        var failures: [Failure] = []
        if let error = info.error {
            failures.append(Failure(property: .file, expected: "complete", actual: "\(error.code.rawValue): \(error.message)"))
        }
        let video = info.video
        if let tier, AsBilledRule.tier(of: info, billed: tier) != .asBilled {
            let size = video.map { "\($0.width)x\($0.height)" } ?? "no video"
            failures.append(Failure(property: .tier, expected: tier.rawValue, actual: "\(info.tier?.rawValue ?? "none") (\(size))"))
        }
        if let fps, abs((video?.frameRate?.doubleValue ?? 0) - fps) > 0.01 {
            failures.append(Failure(property: .fps, expected: format(fps),
                                    actual: video?.frameRate.map { "\($0) (\(format($0.doubleValue)))" } ?? "unknown"))
        }
        if let duration, rule.length(of: info, billedSeconds: duration, expectedFrameRate: fps) != .asBilled {
            let frames = video?.frameCount.map { ", \($0) frames" } ?? ""
            let actual = AsBilledRule.deliveredSeconds(of: info).map { "\(format($0)) s\(frames)" } ?? "unknown"
            let slack = "\(format(rule.toleranceFrames)) frame\(rule.toleranceFrames == 1 ? "" : "s")"
            let expected = rule.acceptsLonger ? "\(format(duration)) s, at most \(slack) short" : "\(format(duration)) s ± \(slack)"
            failures.append(Failure(property: .duration, expected: expected, actual: actual))
        }
        if let audio, audio != (info.audio != nil) {
            failures.append(Failure(property: .audio, expected: audio ? "yes" : "no", actual: info.audio.map { "yes (\($0.codec))" } ?? "no"))
        }
        if soundtrackCoversVideo {
            switch rule.soundtrack(of: info, expectedFrameRate: fps) {
            case .missing where audio != true:  // with `audio: true` the line above already says so
                failures.append(Failure(property: .audio, expected: "sound for the whole video", actual: "no audio track"))
            case .short:
                let picture = AsBilledRule.deliveredSeconds(of: info).map(format) ?? "?"
                failures.append(Failure(property: .audio, expected: "sound for the whole \(picture) s of video",
                                        actual: "\(info.audio?.duration.map(format) ?? "?") s of sound"))
            default: break
            }
        }
        return failures
    }

    private func format(_ value: Double) -> String {
        let rounded = (value * 1000).rounded() / 1000
        guard rounded.isFinite, abs(rounded) < 1e15 else { return String(value) }
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }

    /// What may be asked of a clip: a length of a millisecond to a day, a frame rate of 0.001 to 1,000, a
    /// tolerance of up to 100,000 frames, all finite (so every figure prints and stores as JSON). The one
    /// rule for `clipkit verify`'s flags and `POST /v1/clips`'s fields.
    /// - Parameter names: how the caller spells the three (`--duration`, `duration`, …), for the message.
    /// - Returns: what is wrong, or nil.
    public static func problem(duration: Double?, fps: Double?, toleranceFrames: Double?,
                               names: (duration: String, fps: String, toleranceFrames: String)) -> String? {
        if let duration, !(duration >= 0.001 && duration <= 86_400) { return "\(names.duration) must be 0.001 to 86400 seconds" }
        if let fps, !(fps >= 0.001 && fps <= 1000) { return "\(names.fps) must be 0.001 to 1000" }
        if let toleranceFrames, !(toleranceFrames >= 0 && toleranceFrames <= 100_000) {
            return "\(names.toleranceFrames) must be 0 to 100000 frames"
        }
        return nil
    }
}
