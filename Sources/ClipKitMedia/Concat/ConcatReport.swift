import ClipKitCore

/// What a concat did, seam by seam: the `--report` JSON.
public struct ConcatReport: Sendable, Codable, Hashable {
    /// One input: its frames read and written (fewer when its repeated first frame was dropped).
    public struct Clip: Sendable, Codable, Hashable {
        public var path: String
        public var framesIn: Int
        public var framesOut: Int
        public var hasAudio: Bool
        /// The matrix its pictures were read with.
        public var matrix: ColorMatrix
    }

    /// Where one clip meets the next: how alike the frames each side are, and what was done there.
    public struct Seam: Sendable, Codable, Hashable {
        public var from: String
        public var to: String
        /// Similarity of the last frame before and the first frame after (dB, normalised luma PSNR).
        public var similarity: Double
        public var framesDropped: Int
        /// Mean CIE76 ΔE (Lab) between the previous clip's last frame and this clip's first frame (the one
        /// an i2v model copies from its input, measured even when dropped), before and after correction.
        public var deltaEBefore: Double
        public var deltaEAfter: Double
        /// How the clips meeting here were joined.
        public var handling: Handling

        /// How a seam was joined.
        public enum Handling: String, Sendable, Codable, Hashable, CaseIterable {
            /// Packets copied on both sides.
            case copied
            /// Decoded and encoded again (frames may have been dropped or colour corrected).
            case reencoded
        }
    }

    /// How the whole output was made.
    public enum Mode: String, Sendable, Codable, Hashable, CaseIterable {
        /// The inputs' video packets, copied onto one timeline.
        case copy
        /// One re-encode of every frame.
        case reencode
    }

    public var output: String
    public var mode: Mode
    /// Why the clips were re-encoded (empty for copy).
    public var reencodeReasons: [String]
    public var width: Int
    public var height: Int
    public var frameRate: Rational
    public var frames: Int
    public var duration: Double
    public var hasAudio: Bool
    public var seamThreshold: Double
    /// Encoder PSNR against the frames it was given (re-encode only), YUV, in dB.
    public var psnrAverage: Double?
    public var psnrMinimum: Double?
    public var clips: [Clip]
    public var seams: [Seam]
}

/// Progress of a running concat, for a progress line. Events come in order; the last one, sent when the
/// output is complete, has `framesDone == framesTotal`.
public struct ConcatProgress: Sendable, Hashable {
    /// The clip being joined, from 1.
    public var clip: Int
    public var clips: Int
    /// Output frames written so far.
    public var framesDone: Int
    /// Output frames expected: estimated from the clips' durations until the last event, which gives the
    /// frames really written (dropped seam frames and cross-fades make it smaller).
    public var framesTotal: Int

    public init(clip: Int, clips: Int, framesDone: Int, framesTotal: Int) {
        self.clip = clip
        self.clips = clips
        self.framesDone = framesDone
        self.framesTotal = framesTotal
    }

    /// The fraction done, 0…1.
    public var fraction: Double { framesTotal > 0 ? min(1, Double(framesDone) / Double(framesTotal)) : 0 }
}
