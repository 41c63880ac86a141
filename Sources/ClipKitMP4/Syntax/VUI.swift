/// The start of the video usability information shared by H.264 (Annex E.1.1) and HEVC (Annex E.2.1)
/// up to the colour description: what a stream says about its range and colour. The rest of the VUI
/// (timing, HRD, restrictions) is not read.
package struct VideoSignal: Sendable, Hashable {
    /// video_full_range_flag: 0–255 levels rather than 16–235; nil when video_signal_type is absent.
    package var fullRange: Bool?
    /// colour_description, as coded (ITU-T H.273 code points); nil when absent.
    package var colour: ColourDescription?

    /// Nothing said: no VUI, or a VUI without video_signal_type.
    package static let absent = VideoSignal(fullRange: nil, colour: nil)
}

/// colour_primaries, transfer_characteristics and matrix_coefficients (ITU-T H.273).
package struct ColourDescription: Sendable, Hashable {
    package var primaries: Int
    package var transfer: Int
    package var matrix: Int
}

extension VideoSignal {
    /// Reads vui_parameters() as far as the colour description, from vui_parameters_present_flag on.
    static func read(_ bits: inout BitReader) throws(SyntaxError) -> VideoSignal {
        guard try bits.flag() else { return .absent }  // vui_parameters_present_flag
        if try bits.flag() {  // aspect_ratio_info_present_flag
            if try bits.bits(8) == 255 { try bits.skip(32) }  // Extended_SAR: sar_width, sar_height
        }
        if try bits.flag() { try bits.skip(1) }  // overscan_info_present_flag, overscan_appropriate_flag
        guard try bits.flag() else { return .absent }  // video_signal_type_present_flag
        try bits.skip(3)  // video_format
        let fullRange = try bits.flag()
        guard try bits.flag() else { return VideoSignal(fullRange: fullRange, colour: nil) }
        let colour = ColourDescription(primaries: try bits.bits(8), transfer: try bits.bits(8), matrix: try bits.bits(8))
        return VideoSignal(fullRange: fullRange, colour: colour)
    }
}
