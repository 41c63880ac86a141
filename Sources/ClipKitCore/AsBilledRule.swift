/// The one rule for whether a delivered clip is what was billed, used by `clipkit verify`, by chain
/// runs (which generate again a clip that fails it) and by the audit (which prices what fails it).
///
/// - **Length.** A clip may be up to `toleranceFrames` frames shorter than billed, counted at the
///   clip's own frame rate (else the rate the caller expects, else `fallbackFrameRate`): with the
///   default of one frame, 149 frames at 30 fps pass for 5 s and 148 do not. A clip longer than billed
///   passes when `acceptsLonger` (the default): the provider delivered more than it charged for, which
///   costs the buyer nothing. With `acceptsLonger` false it may also be at most `toleranceFrames` longer.
/// - **Tier.** A clip is as billed at the tier its pixel area falls in (`Tier.classify`); below or
///   above the billed tier it is not (the audit prices a lower tier and only warns about a higher one).
public struct AsBilledRule: Sendable, Hashable, Codable {
    /// Frames a clip may be shorter than billed (fractions allowed).
    public var toleranceFrames: Double
    /// Whether a clip longer than billed (beyond the tolerance) is as billed.
    public var acceptsLonger: Bool
    /// The frame rate a frame of tolerance is counted at when neither the clip nor the caller gives one.
    public var fallbackFrameRate: Double

    public init(toleranceFrames: Double = 1, acceptsLonger: Bool = true, fallbackFrameRate: Double = 30) {
        self.toleranceFrames = toleranceFrames
        self.acceptsLonger = acceptsLonger
        self.fallbackFrameRate = fallbackFrameRate
    }

    /// How a clip's length compares with the seconds billed.
    public enum LengthVerdict: Sendable, Hashable {
        case asBilled
        /// Shorter than billed beyond the tolerance, by `missing` seconds.
        case short(missing: Double)
        /// Longer than billed beyond the tolerance, by `extra` seconds (only when `acceptsLonger` is false).
        case long(extra: Double)
        /// The clip's length is unknown (no video duration and no container duration).
        case unmeasured
    }

    /// How a clip's tier compares with the tier billed.
    public enum TierVerdict: Sendable, Hashable {
        case asBilled
        /// Below the billed tier, or below every tier (`MediaInfo.tier` is nil).
        case lower
        case higher
    }

    /// The seconds of video a clip holds: the video stream's duration, else the container's.
    public static func deliveredSeconds(of info: MediaInfo) -> Double? {
        guard let value = info.video?.duration ?? info.duration, value.isFinite, value >= 0 else { return nil }
        return value
    }

    /// The tolerance in seconds for `info`: `toleranceFrames` frames at the clip's frame rate, else at
    /// `expectedFrameRate`, else at `fallbackFrameRate`.
    public func toleranceSeconds(for info: MediaInfo, expectedFrameRate: Double? = nil) -> Double {
        let clipRate = info.video?.frameRate.flatMap { $0.isValid ? $0.doubleValue : nil }
        let rate = clipRate ?? expectedFrameRate.flatMap { $0 > 0 ? $0 : nil } ?? fallbackFrameRate
        return toleranceFrames / rate
    }

    /// Judges a clip's length against `billedSeconds`.
    /// - Parameter expectedFrameRate: the rate to count the tolerance in when the clip has none.
    public func length(of info: MediaInfo, billedSeconds: Double, expectedFrameRate: Double? = nil) -> LengthVerdict {
        guard let delivered = Self.deliveredSeconds(of: info) else { return .unmeasured }
        let tolerance = toleranceSeconds(for: info, expectedFrameRate: expectedFrameRate)
        // A hair of slack: 148 frames at 30 fps plus two frames of tolerance is exactly 5 s, not short.
        let slack = 1e-6
        if delivered + tolerance + slack < billedSeconds { return .short(missing: billedSeconds - delivered) }
        if !acceptsLonger, delivered - tolerance - slack > billedSeconds { return .long(extra: delivered - billedSeconds) }
        return .asBilled
    }

    /// Judges a clip's tier against the tier billed.
    public static func tier(of info: MediaInfo, billed: Tier) -> TierVerdict {
        guard let delivered = info.tier, delivered >= billed else { return .lower }
        return delivered == billed ? .asBilled : .higher
    }
}
