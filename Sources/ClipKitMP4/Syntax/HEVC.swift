/// HEVC syntax (ITU-T H.265): NAL unit headers and the sequence parameter set as far as the VUI's
/// colour description. Parsers take a NAL unit as bytes (its two header bytes included) and throw
/// `SyntaxError` on anything they cannot read; none traps on any input.
package enum HEVC {
    package enum NALType {
        package static let sequenceParameterSet = 33, prefixSEI = 39, suffixSEI = 40
        /// Types below this are slices (VCL NAL units).
        package static let firstNonVCL = 32
    }

    /// nal_unit_type of a NAL unit (bits 1–6 of its first byte), nil for an empty unit.
    package static func type<C: Collection>(of nal: C) -> Int? where C.Element == UInt8 {
        nal.first.map { Int($0 >> 1 & 0x3f) }
    }

    /// A sequence parameter set (§7.3.2.2.1) read up to and including the VUI's colour description.
    package struct SequenceParameterSet: Sendable, Hashable {
        package var maxSubLayers: Int
        package var generalProfileIDC: Int
        package var generalLevelIDC: Int
        package var id: Int
        package var chromaFormat: Int
        package var width: Int
        package var height: Int
        package var bitDepthLuma: Int
        package var bitDepthChroma: Int
        package var signal: VideoSignal

        package init<C: Collection>(nal: C) throws(SyntaxError) where C.Element == UInt8 {
            guard HEVC.type(of: nal) == NALType.sequenceParameterSet else { throw SyntaxError("not an SPS NAL unit") }
            var bits = BitReader(nalPayload: nal, headerBytes: 2)
            try bits.skip(4)  // sps_video_parameter_set_id
            maxSubLayers = 1 + (try bits.bits(3))
            guard maxSubLayers <= 7 else { throw SyntaxError("sps_max_sub_layers_minus1 of 7") }
            try bits.skip(1)  // sps_temporal_id_nesting_flag
            (generalProfileIDC, generalLevelIDC) = try HEVC.readProfileTierLevel(&bits, maxSubLayers: maxSubLayers)
            id = try bits.ue(max: 15)
            chromaFormat = try bits.ue(max: 3)
            if chromaFormat == 3 { try bits.skip(1) }  // separate_colour_plane_flag
            width = try bits.ue(max: 1 << 16)
            height = try bits.ue(max: 1 << 16)
            if try bits.flag() {  // conformance_window_flag
                for _ in 0..<4 { _ = try bits.ue() }
            }
            bitDepthLuma = 8 + (try bits.ue(max: 8))
            bitDepthChroma = 8 + (try bits.ue(max: 8))
            let pocLSBBits = 4 + (try bits.ue(max: 12))
            let orderingForAllSubLayers = try bits.flag()
            for _ in (orderingForAllSubLayers ? 0 : maxSubLayers - 1)..<maxSubLayers {
                for _ in 0..<3 { _ = try bits.ue() }  // max_dec_pic_buffering, max_num_reorder, max_latency_increase
            }
            for _ in 0..<6 { _ = try bits.ue() }  // coding block, transform block sizes and depths
            if try bits.flag(), try bits.flag() {  // scaling_list_enabled_flag, sps_scaling_list_data_present_flag
                try HEVC.skipScalingListData(&bits)
            }
            try bits.skip(2)  // amp_enabled_flag, sample_adaptive_offset_enabled_flag
            if try bits.flag() {  // pcm_enabled_flag
                try bits.skip(8)  // PCM bit depths
                _ = try bits.ue()
                _ = try bits.ue()
                try bits.skip(1)
            }
            try HEVC.skipShortTermReferenceSets(&bits, count: try bits.ue(max: 64))
            if try bits.flag() {  // long_term_ref_pics_present_flag
                for _ in 0..<(try bits.ue(max: 32)) { try bits.skip(pocLSBBits + 1) }
            }
            try bits.skip(2)  // sps_temporal_mvp_enabled_flag, strong_intra_smoothing_enabled_flag
            // A VUI cut short is ignored, as FFmpeg does ("Overread VUI"): it says nothing then.
            signal = (try? VideoSignal.read(&bits)) ?? .absent
        }
    }

    /// profile_tier_level(1, maxSubLayers − 1) (§7.3.3): the general profile and level; the rest skipped.
    static func readProfileTierLevel(_ bits: inout BitReader, maxSubLayers: Int) throws(SyntaxError) -> (profile: Int, level: Int) {
        try bits.skip(3)  // general_profile_space, general_tier_flag
        let profile = try bits.bits(5)
        try bits.skip(32 + 4 + 43 + 1)  // compatibility flags, source flags, constraint flags, inbld/reserved
        let level = try bits.bits(8)
        var present: [(profile: Bool, level: Bool)] = []
        for _ in 0..<(maxSubLayers - 1) { present.append((try bits.flag(), try bits.flag())) }
        if maxSubLayers > 1 { try bits.skip(2 * (9 - maxSubLayers)) }  // reserved_zero_2bits up to eight
        for layer in present {
            if layer.profile { try bits.skip(88) }
            if layer.level { try bits.skip(8) }
        }
        return (profile, level)
    }

    /// scaling_list_data() (§7.3.4), read and dropped.
    static func skipScalingListData(_ bits: inout BitReader) throws(SyntaxError) {
        for sizeID in 0..<4 {
            for _ in stride(from: 0, to: 6, by: sizeID == 3 ? 3 : 1) {
                if try bits.flag() {  // scaling_list_pred_mode_flag
                    if sizeID > 1 { _ = try bits.se(max: 255) }  // scaling_list_dc_coef_minus8: −7…247
                    for _ in 0..<min(64, 1 << (4 + (sizeID << 1))) { _ = try bits.se(max: 128) }
                } else {
                    _ = try bits.ue(max: 5)  // scaling_list_pred_matrix_id_delta
                }
            }
        }
    }

    /// The SPS's st_ref_pic_set(i) for i in 0..<count (§7.3.7), read and dropped. Only the number of
    /// pictures in each set is kept: a set predicted from the previous one repeats a flag per entry.
    static func skipShortTermReferenceSets(_ bits: inout BitReader, count: Int) throws(SyntaxError) {
        var previousDeltas = 0
        for index in 0..<count {
            var deltas = 0
            if index > 0, try bits.flag() {  // inter_ref_pic_set_prediction_flag
                try bits.skip(1)  // delta_rps_sign
                _ = try bits.ue(max: 1 << 15)  // abs_delta_rps_minus1
                for _ in 0...previousDeltas {
                    // used_by_curr_pic_flag, else use_delta_flag: the entry is kept if either is set.
                    if try bits.flag() {
                        deltas += 1
                    } else if try bits.flag() {
                        deltas += 1
                    }
                }
            } else {
                let negative = try bits.ue(max: 16), positive = try bits.ue(max: 16)
                for _ in 0..<(negative + positive) {
                    _ = try bits.ue(max: 1 << 15)  // delta_poc_sX_minus1
                    try bits.skip(1)  // used_by_curr_pic_sX_flag
                }
                deltas = negative + positive
            }
            guard deltas <= 32 else { throw SyntaxError("short-term reference set of \(deltas) pictures") }
            previousDeltas = deltas
        }
    }
}
