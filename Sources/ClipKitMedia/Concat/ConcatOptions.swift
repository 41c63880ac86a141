import ClipKitCore

/// A picture size in pixels.
public struct FrameSize: Sendable, Hashable, Codable {
    public var width: Int
    public var height: Int

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }
}

/// How `Concatenator` joins clips.
public struct ConcatOptions: Sendable, Hashable {
    /// What to do with the first frame of each following clip.
    public enum SeamPolicy: String, Sendable, Hashable, CaseIterable {
        /// Keep every frame.
        case keep
        /// Drop the first frame of a following clip when it repeats the previous clip's last frame
        /// (its similarity reaches `seamThreshold`).
        case drop
        /// Always drop the first frame of every following clip.
        case dropAlways = "drop=always"
    }

    /// Whether later clips are colour-corrected towards the first (`--color-match`).
    public enum ColorMatch: String, Sendable, Hashable, CaseIterable {
        case off
        /// Correct each following clip so the chain stays anchored to the first clip's colour.
        case first
    }

    /// When pictures are decoded and encoded again rather than copied (`--reencode`).
    public enum ReencodePolicy: String, Sendable, Hashable, CaseIterable {
        /// Copy packets when the clips are compatible and nothing asks for new pictures; else re-encode.
        case auto
        case always
        /// Fail rather than re-encode.
        case never
    }

    public var seam: SeamPolicy
    public var colorMatch: ColorMatch
    public var reencode: ReencodePolicy
    /// Output size (letterboxed or pillarboxed, never stretched); default the first clip's display size.
    public var size: FrameSize?
    /// Output frame rate; default the first clip's.
    public var frameRate: Rational?
    /// Frames blended at each seam (0: a cut).
    public var crossfadeFrames: Int
    /// Similarity (dB of mean/contrast-normalised luma PSNR) at or above which a seam's first frame
    /// counts as a repeat. Adjacent frames of moving clips measure 15–30 dB; a repeated frame, even
    /// with the colour drift of a new generation, 38 dB or more.
    public var seamThreshold: Double
    public var crf: Int
    public var preset: String
    /// Measure what costs extra decoding: seams of copied clips (similarity, ΔE, pictures) and the
    /// encode's PSNR (the output is decoded once more). Seams of re-encoded clips are always measured.
    public var measuresQuality: Bool
    /// Inputs (by path) to read with a given matrix instead of the one their evidence gives: what a
    /// chain measured its provider's clips to use.
    public var matrices: [String: MatrixChoice]

    public init(seam: SeamPolicy = .keep, colorMatch: ColorMatch = .off, reencode: ReencodePolicy = .auto,
                size: FrameSize? = nil, frameRate: Rational? = nil, crossfadeFrames: Int = 0,
                seamThreshold: Double = 35, crf: Int = 14, preset: String = "veryfast", measuresQuality: Bool = true,
                matrices: [String: MatrixChoice] = [:]) {
        self.seam = seam
        self.colorMatch = colorMatch
        self.reencode = reencode
        self.size = size
        self.frameRate = frameRate
        self.crossfadeFrames = crossfadeFrames
        self.seamThreshold = seamThreshold
        self.crf = crf
        self.preset = preset
        self.measuresQuality = measuresQuality
        self.matrices = matrices
    }
}
