import ClipKitCore

/// Which YUV matrix makes a generated clip's first frame look like the image it was generated from.
/// An image-to-video model starts its clip on the input image, so the matrix that brings the two
/// closest is the one the provider converted with, whatever the file's tags and writer say.
public struct MatrixMatch: Sendable, Codable, Hashable {
    /// The closer of BT.601 and BT.709.
    public var matrix: ColorMatrix
    /// Mean CIE76 ΔE of the first frame, read with each matrix, to the input image fitted to its size.
    public var deltaE601: Double
    public var deltaE709: Double
    /// What the clip's own evidence says (its `probe` colour).
    public var evidence: VideoColor

    /// Apart by at least this much, the measurement decides; closer, the content is too grey to tell.
    public static let decisiveMargin = 0.5

    /// The two readings differ clearly enough to trust the closer one.
    public var isDecisive: Bool { abs(deltaE601 - deltaE709) >= Self.decisiveMargin }

    /// `measure`, blocking the calling thread (library users call the `async` one).
    package static func measure(clip: String, sent: RGBImage) throws -> MatrixMatch {
        let as601 = try FrameExtractor.extract(.first, from: clip, matrix: .bt601)
        let as709 = try FrameExtractor.extract(.first, from: clip, matrix: .bt709)
        let target = try sent.covering(width: as709.width, height: as709.height)
        let deltaE601 = as601.meanDeltaE(against: target), deltaE709 = as709.meanDeltaE(against: target)
        let evidence = try MediaProbe.color(clip) ?? VideoColor(evidence: ColorEvidence())
        return MatrixMatch(matrix: deltaE709 < deltaE601 ? .bt709 : .bt601, deltaE601: deltaE601, deltaE709: deltaE709,
                           evidence: evidence)
    }
}
