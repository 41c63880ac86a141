/// The properties a clip was billed for, checked against what it really contains.
/// Pure logic over `MediaInfo`, shared by `clipkit verify`, the audit and chain runs.
public struct ClipRequirements: Sendable, Hashable, Codable {
    public var tier: Tier?
    /// Billed seconds of video.
    public var duration: Double?
    /// How many frames short (or long) of `duration` still passes.
    public var toleranceFrames: Int
    public var fps: Double?
    public var audio: Bool?

    public init(tier: Tier? = nil, duration: Double? = nil, toleranceFrames: Int = 1, fps: Double? = nil, audio: Bool? = nil) {
        self.tier = tier
        self.duration = duration
        self.toleranceFrames = toleranceFrames
        self.fps = fps
        self.audio = audio
    }

    /// One property that does not match.
    public struct Failure: Sendable, Hashable, CustomStringConvertible {
        public var property: String
        public var expected: String
        public var actual: String
        public var description: String { "\(property): expected \(expected), got \(actual)" }
    }

    /// Every requirement `info` fails; empty when the clip is as billed.
    public func failures(of info: MediaInfo) -> [Failure] {
        if let error = info.error, info.video == nil {
            return [Failure(property: "file", expected: "a readable video", actual: "\(error.code.rawValue): \(error.message)")]
        }
        var failures: [Failure] = []
        if let error = info.error {
            failures.append(Failure(property: "file", expected: "complete", actual: "\(error.code.rawValue): \(error.message)"))
        }
        let video = info.video
        if let tier, info.tier != tier {
            let size = video.map { "\($0.width)x\($0.height)" } ?? "no video"
            failures.append(Failure(property: "tier", expected: tier.rawValue, actual: "\(info.tier?.rawValue ?? "none") (\(size))"))
        }
        let rate = video?.frameRate?.doubleValue ?? 0
        if let fps, abs(rate - fps) > 0.01 {
            failures.append(Failure(property: "fps", expected: format(fps), actual: video?.frameRate.map { "\($0) (\(format($0.doubleValue)))" } ?? "unknown"))
        }
        if let duration {
            let actual = video?.duration ?? 0
            // One frame at the clip's own rate (or the required rate) is the unit of tolerance.
            let frame = 1 / (rate > 0 ? rate : (fps ?? 30))
            if abs(actual - duration) > Double(toleranceFrames) * frame + 1e-6 {
                let frames = video?.frameCount.map { ", \($0) frames" } ?? ""
                failures.append(Failure(property: "duration", expected: "\(format(duration)) s ± \(toleranceFrames) frame(s)",
                                        actual: "\(format(actual)) s\(frames)"))
            }
        }
        if let audio, audio != (info.audio != nil) {
            failures.append(Failure(property: "audio", expected: audio ? "yes" : "no", actual: info.audio.map { "yes (\($0.codec))" } ?? "no"))
        }
        return failures
    }

    private func format(_ value: Double) -> String {
        let rounded = (value * 1000).rounded() / 1000
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }
}
