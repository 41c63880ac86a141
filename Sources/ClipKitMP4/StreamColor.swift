import ClipKitCore

/// Gathers a video stream's colour evidence from its bytes, for `VideoColor(evidence:)`. The MP4 fast
/// path and ClipKitMedia's FFmpeg path both call this, so the two answer alike by construction.
package enum StreamColor {
    /// The evidence of a stream: the container's tags (colr box, or what the demuxer reports), the
    /// VUI of its parameter sets, the writer's encoder tag, and the SEI stored with the parameter sets
    /// and in its first access unit.
    /// - Parameter seiTexts: from `seiTexts(codec:parameterSets:firstAccessUnit:)`.
    package static func evidence(parameterSets: ParameterSets?, container: ColorTags, encoderTag: String?,
                                 seiTexts: [String]) -> ColorEvidence {
        ColorEvidence(bitstream: parameterSets?.signal.tags ?? ColorTags(), container: container,
                      encoderTag: encoderTag, encoderSEI: (parameterSets?.userDataTexts ?? []) + seiTexts)
    }

    /// The user data texts in the first access unit of an H.264/HEVC stream (none for other codecs).
    /// Nil when `bytes` ends before the first slice (pass more of the sample).
    package static func seiTexts<C: RandomAccessCollection>(codec: String, parameterSets: ParameterSets?, firstAccessUnit bytes: C)
    -> [String]? where C.Element == UInt8, C.Index == Int {
        let syntax: SEI.Codec
        switch codec {
        case "h264": syntax = .h264
        case "hevc": syntax = .hevc
        default: return []
        }
        return SEI.userDataTexts(inAccessUnit: bytes, codec: syntax, nalLengthSize: parameterSets?.nalLengthSize)
    }
}

extension VideoSignal {
    /// The VUI's statements as colour tags.
    package var tags: ColorTags {
        ColorTags(matrix: colour?.matrix, primaries: colour?.primaries, transfer: colour?.transfer, fullRange: fullRange)
    }
}
