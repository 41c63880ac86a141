/// The YUV → RGB matrix a stream is converted with. Names are FFmpeg's (`ffprobe`'s `color_space`),
/// except that its two names for the BT.601 matrix, `smpte170m` and `bt470bg` (the same
/// coefficients), are both `bt601`.
public enum ColorMatrix: String, Sendable, Hashable, Codable, CaseIterable {
    case bt601, bt709, fcc, smpte240m, ycgco, bt2020nc, bt2020c, smpte2085
    case chromaDerivedNC = "chroma-derived-nc", chromaDerivedC = "chroma-derived-c", ictcp
    /// Identity: the planes are G, B, R.
    case gbr

    /// From an ITU-T H.273 matrix_coefficients code point; nil for unspecified (2), reserved (3) and
    /// codes FFmpeg does not know.
    public init?(code: Int) {
        let byCode: [Int: ColorMatrix] = [
            0: .gbr, 1: .bt709, 4: .fcc, 5: .bt601, 6: .bt601, 7: .smpte240m, 8: .ycgco, 9: .bt2020nc, 10: .bt2020c,
            11: .smpte2085, 12: .chromaDerivedNC, 13: .chromaDerivedC, 14: .ictcp,
        ]
        guard let matrix = byCode[code] else { return nil }
        self = matrix
    }

    /// The H.273 code point (BT.601 as 6, SMPTE 170M).
    public var code: Int {
        switch self {
        case .gbr: 0
        case .bt709: 1
        case .fcc: 4
        case .bt601: 6
        case .smpte240m: 7
        case .ycgco: 8
        case .bt2020nc: 9
        case .bt2020c: 10
        case .smpte2085: 11
        case .chromaDerivedNC: 12
        case .chromaDerivedC: 13
        case .ictcp: 14
        }
    }
}

/// Video levels: `tv` (limited, 16–235) or `pc` (full, 0–255), as FFmpeg names them.
public enum ColorRange: String, Sendable, Hashable, Codable {
    case tv, pc
}

/// What one source in a file says about colour, as ITU-T H.273 code points (nil: not said).
public struct ColorTags: Sendable, Hashable {
    public var matrix: Int?
    public var primaries: Int?
    public var transfer: Int?
    public var fullRange: Bool?

    public init(matrix: Int? = nil, primaries: Int? = nil, transfer: Int? = nil, fullRange: Bool? = nil) {
        self.matrix = matrix
        self.primaries = primaries
        self.transfer = transfer
        self.fullRange = fullRange
    }
}

/// Everything a file says, directly or not, about how its pictures were converted from RGB: gathered
/// from the bytes by `ClipKitMP4` and through FFmpeg by `ClipKitMedia`, judged by `VideoColor(evidence:)`.
public struct ColorEvidence: Sendable, Hashable {
    /// The codec's own tags: the SPS's VUI (video_signal_type, colour_description).
    public var bitstream: ColorTags
    /// The container's: an MP4 `colr` box (nclx/nclc), or what FFmpeg's demuxer reports.
    public var container: ColorTags
    /// The writing application's tag (MP4 `©too`, FFmpeg's `encoder` metadata), e.g. "Lavf59.27.100".
    public var encoderTag: String?
    /// user_data_unregistered texts of the first access unit, e.g. "x264 - core 164 r3095 baee400 - …".
    public var encoderSEI: [String]

    public init(bitstream: ColorTags = ColorTags(), container: ColorTags = ColorTags(), encoderTag: String? = nil,
                encoderSEI: [String] = []) {
        self.bitstream = bitstream
        self.container = container
        self.encoderTag = encoderTag
        self.encoderSEI = encoderSEI
    }
}

/// How a video's YUV maps to RGB: what the file says, and the matrix ClipKit uses when it says nothing.
/// In `clipkit probe` JSON as `video.color`.
public struct VideoColor: Sendable, Hashable, Codable {
    /// Why this matrix.
    public enum Basis: String, Sendable, Hashable, Codable {
        /// The file tags its matrix (VUI or container).
        case tag
        /// Untagged, and the first access unit says x264 encoded it: libx264 is fed by libswscale (ffmpeg,
        /// imageio, PyAV, OpenCV), whose RGB → YUV conversion is BT.601 unless told otherwise.
        case x264
        /// The same for x265.
        case x265
        /// Untagged, written by libavformat ("Lavf…"): ffmpeg and the libraries built on it, BT.601 likewise.
        case lavf
        /// Untagged, and no known writer: BT.601, as ffmpeg's own decode, PyAV and imageio read it.
        case `default`
        /// The caller chose the matrix (`--matrix`, or a chain that measured its provider's).
        case chosen
    }

    public var matrix: ColorMatrix
    public var range: ColorRange
    /// FFmpeg's name of the tagged primaries (`bt709`, `smpte170m`, …); nil when not tagged.
    public var primaries: String?
    /// FFmpeg's name of the tagged transfer characteristics; nil when not tagged.
    public var transfer: String?
    /// The file names its matrix; false means `matrix` is ClipKit's choice, for the reason in `basis`.
    public var tagged: Bool
    public var basis: Basis
    /// Who wrote the file, as far as it says: "x264 core 164 r3095 baee400", "Lavf59.27.100"; nil if unknown.
    public var writer: String?

    public init(matrix: ColorMatrix, range: ColorRange = .tv, primaries: String? = nil, transfer: String? = nil,
                tagged: Bool, basis: Basis, writer: String? = nil) {
        self.matrix = matrix
        self.range = range
        self.primaries = primaries
        self.transfer = transfer
        self.tagged = tagged
        self.basis = basis
        self.writer = writer
    }

    /// The rule, in one place. Tags win, field by field: the bitstream's VUI over the container's (the
    /// decoder follows the VUI), each only when it names a value (unspecified and reserved say nothing).
    /// An untagged stream gets BT.601 whoever wrote it: the writers that leave the matrix untagged —
    /// ffmpeg and the tools built on libavformat/libswscale (imageio, PyAV, OpenCV, moviepy), which is how
    /// generated clips are usually written, Wan's reference code included — convert with BT.601 at every
    /// size, and ffmpeg's own decode, PyAV and imageio read untagged video back with BT.601. Players'
    /// "BT.709 for HD" guess is right for broadcast sources, which tag their matrix. The writer evidence
    /// (x264/x265 SEI, the encoder tag) is kept in `basis`/`writer` to show what the choice rests on.
    public init(evidence: ColorEvidence) {
        func pick<T>(_ read: (ColorTags) -> Int?, _ name: (Int) -> T?) -> T? {
            read(evidence.bitstream).flatMap(name) ?? read(evidence.container).flatMap(name)
        }
        let fullRange = evidence.bitstream.fullRange ?? evidence.container.fullRange ?? false
        let writer = Self.writer(evidence)
        let tagged = pick(\.matrix, ColorMatrix.init(code:))
        self.init(matrix: tagged ?? .bt601, range: fullRange ? .pc : .tv,
                  primaries: pick(\.primaries, { Self.primaryNames[$0] }), transfer: pick(\.transfer, { Self.transferNames[$0] }),
                  tagged: tagged != nil, basis: tagged != nil ? .tag : writer?.basis ?? .default, writer: writer?.name)
    }

    /// The same picture read with a chosen matrix instead (the range and tags stay as the file says).
    public func choosing(_ matrix: ColorMatrix) -> VideoColor {
        var chosen = self
        chosen.matrix = matrix
        chosen.basis = .chosen
        return chosen
    }

    /// One line for people: "bt601 (untagged; x264 core 164 r3095 baee400 writes BT.601 unless told)".
    public var summary: String {
        let reason: String
        switch basis {
        case .tag: reason = "tagged"
        case .x264, .x265, .lavf: reason = "untagged; written by \(writer ?? basis.rawValue), which converts with BT.601 unless told otherwise"
        case .default: reason = "untagged" + (writer.map { "; written by \($0)" } ?? "") + "; BT.601 as ffmpeg reads it"
        case .chosen: reason = "chosen; the file says " + (tagged ? "it is tagged" : "nothing")
        }
        return "\(matrix.rawValue) \(range.rawValue) (\(reason))"
    }

    /// The writer the evidence names, and the basis it gives an untagged stream. The encoder's own SEI
    /// is the more specific evidence, so it comes first.
    private static func writer(_ evidence: ColorEvidence) -> (name: String, basis: Basis)? {
        for text in evidence.encoderSEI {
            // "x264 - core 164 r3095 baee400 - H.264/MPEG-4 AVC codec - …"
            if text.hasPrefix("x264 - core ") {
                let version = text.split(separator: " - ", omittingEmptySubsequences: false).dropFirst().first ?? ""
                return ("x264 " + version, .x264)
            }
            // "x265 (build 199) - 3.5+1-f0c1022b6:[Linux][GCC 11.2.0][64 bit] 8bit - H.265/HEVC codec - …"
            if text.hasPrefix("x265 (build ") {
                let parts = text.split(separator: " - ", omittingEmptySubsequences: false)
                let version = parts.count > 1 ? parts[1].prefix { $0 != ":" } : ""
                return ("x265 " + version, .x265)
            }
        }
        guard let tag = evidence.encoderTag, !tag.isEmpty else { return nil }
        return (tag, tag.hasPrefix("Lavf") ? .lavf : .default)
    }

    /// FFmpeg 5.1's names (av_color_primaries_name / av_color_transfer_name) of the code points that
    /// name something; unspecified and reserved are left out.
    static let primaryNames: [Int: String] = [
        1: "bt709", 4: "bt470m", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 8: "film", 9: "bt2020", 10: "smpte428",
        11: "smpte431", 12: "smpte432", 22: "ebu3213",
    ]
    static let transferNames: [Int: String] = [
        1: "bt709", 4: "bt470m", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 8: "linear", 9: "log100", 10: "log316",
        11: "iec61966-2-4", 12: "bt1361e", 13: "iec61966-2-1", 14: "bt2020-10", 15: "bt2020-12", 16: "smpte2084",
        17: "smpte428", 18: "arib-std-b67",
    ]

    enum CodingKeys: String, CodingKey {
        case matrix, range, primaries, transfer, tagged, basis, writer
    }

    /// Every key, with explicit nulls, as the rest of the probe contract.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(matrix, forKey: .matrix)
        try c.encode(range, forKey: .range)
        try c.encode(primaries, forKey: .primaries)
        try c.encode(transfer, forKey: .transfer)
        try c.encode(tagged, forKey: .tagged)
        try c.encode(basis, forKey: .basis)
        try c.encode(writer, forKey: .writer)
    }
}

/// `--matrix`: the evidence rule, or a matrix the caller knows better.
public enum MatrixChoice: String, Sendable, Hashable, Codable, CaseIterable {
    case auto, bt601, bt709

    /// The colour to convert with: the rule's answer, or that answer with the chosen matrix.
    public func apply(to color: VideoColor) -> VideoColor {
        switch self {
        case .auto: color
        case .bt601: color.choosing(.bt601)
        case .bt709: color.choosing(.bt709)
        }
    }
}
