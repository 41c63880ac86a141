/// H.264 syntax (ITU-T H.264): NAL unit headers, sequence and picture parameter sets, slice headers.
/// Every parser takes a NAL unit as bytes (header included, emulation prevention still in) and throws
/// `SyntaxError` on anything it cannot read; none traps on any input.
package enum H264 {
    /// nal_unit_type values the readers here care about.
    package enum NALType {
        package static let slice = 1, partitionA = 2, partitionB = 3, partitionC = 4, idrSlice = 5, sei = 6
        package static let sequenceParameterSet = 7, pictureParameterSet = 8
        package static let sliceExtension = 20, depthSliceExtension = 21
    }

    /// nal_unit_type of a NAL unit (its first byte), nil for an empty unit.
    package static func type<C: Collection>(of nal: C) -> Int? where C.Element == UInt8 {
        nal.first.map { Int($0 & 0x1f) }
    }

    /// The profiles whose SPS carries chroma format, bit depths and scaling matrices (§7.3.2.1.1).
    static let highProfiles: Set<Int> = [100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]

    /// A sequence parameter set (§7.3.2.1.1), with the VUI read as far as its colour description.
    package struct SequenceParameterSet: Sendable, Hashable {
        package var profileIDC: Int
        /// constraint_set0_flag … constraint_set5_flag and the two reserved bits, as one byte.
        package var constraintFlags: Int
        package var levelIDC: Int
        package var id: Int
        /// 0 monochrome, 1 = 4:2:0, 2 = 4:2:2, 3 = 4:4:4.
        package var chromaFormat: Int
        package var separateColourPlanes: Bool
        package var bitDepthLuma: Int
        package var bitDepthChroma: Int
        /// log2_max_frame_num: the width of frame_num in slice headers.
        package var frameNumBits: Int
        package var picOrderCountType: Int
        /// log2_max_pic_order_cnt_lsb (picture order count type 0).
        package var picOrderCountLSBBits: Int
        package var deltaPicOrderAlwaysZero: Bool
        package var maxReferenceFrames: Int
        package var gapsInFrameNumAllowed: Bool
        package var widthInMacroblocks: Int
        package var heightInMapUnits: Int
        /// frame_mbs_only_flag: no field pictures.
        package var frameMacroblocksOnly: Bool
        package var signal: VideoSignal

        /// ChromaArrayType (§7.4.2.1.1).
        package var chromaArrayType: Int { separateColourPlanes ? 0 : chromaFormat }
        package var maxFrameNum: Int { 1 << frameNumBits }

        package init<C: Collection>(nal: C) throws(SyntaxError) where C.Element == UInt8 {
            guard H264.type(of: nal) == NALType.sequenceParameterSet else { throw SyntaxError("not an SPS NAL unit") }
            var bits = BitReader(nalPayload: nal, headerBytes: 1)
            profileIDC = try bits.bits(8)
            constraintFlags = try bits.bits(8)
            levelIDC = try bits.bits(8)
            id = try bits.ue(max: 31)
            chromaFormat = 1
            separateColourPlanes = false
            bitDepthLuma = 8
            bitDepthChroma = 8
            if H264.highProfiles.contains(profileIDC) {
                chromaFormat = try bits.ue(max: 3)
                if chromaFormat == 3 { separateColourPlanes = try bits.flag() }
                bitDepthLuma = 8 + (try bits.ue(max: 6))
                bitDepthChroma = 8 + (try bits.ue(max: 6))
                try bits.skip(1)  // qpprime_y_zero_transform_bypass_flag
                if try bits.flag() {  // seq_scaling_matrix_present_flag
                    for list in 0..<(chromaFormat == 3 ? 12 : 8) {
                        if try bits.flag() { try H264.skipScalingList(&bits, size: list < 6 ? 16 : 64) }
                    }
                }
            }
            frameNumBits = 4 + (try bits.ue(max: 12))
            picOrderCountType = try bits.ue(max: 2)
            picOrderCountLSBBits = 0
            deltaPicOrderAlwaysZero = false
            switch picOrderCountType {
            case 0:
                picOrderCountLSBBits = 4 + (try bits.ue(max: 12))
            case 1:
                deltaPicOrderAlwaysZero = try bits.flag()
                _ = try bits.se()  // offset_for_non_ref_pic
                _ = try bits.se()  // offset_for_top_to_bottom_field
                for _ in 0..<(try bits.ue(max: 255)) { _ = try bits.se() }  // offset_for_ref_frame
            default:
                break
            }
            maxReferenceFrames = try bits.ue(max: 16)
            gapsInFrameNumAllowed = try bits.flag()
            widthInMacroblocks = 1 + (try bits.ue(max: 1 << 16))
            heightInMapUnits = 1 + (try bits.ue(max: 1 << 16))
            frameMacroblocksOnly = try bits.flag()
            if !frameMacroblocksOnly { try bits.skip(1) }  // mb_adaptive_frame_field_flag
            try bits.skip(1)  // direct_8x8_inference_flag
            if try bits.flag() {  // frame_cropping_flag: four offsets
                for _ in 0..<4 { _ = try bits.ue() }
            }
            // A VUI cut short is ignored, as FFmpeg does ("Overread VUI"): it says nothing then.
            signal = (try? VideoSignal.read(&bits)) ?? .absent
        }
    }

    /// scaling_list() (§7.3.2.1.1.1), read and dropped.
    static func skipScalingList(_ bits: inout BitReader, size: Int) throws(SyntaxError) {
        var last = 8, next = 8
        for _ in 0..<size where next != 0 {
            next = (last + (try bits.se(max: 128)) + 256) % 256
            last = next == 0 ? last : next
        }
    }

    /// A picture parameter set (§7.3.2.2) up to redundant_pic_cnt_present_flag: what slice headers need.
    package struct PictureParameterSet: Sendable, Hashable {
        package var id: Int
        package var spsID: Int
        package var entropyCodingCABAC: Bool
        package var bottomFieldPicOrderInFramePresent: Bool
        package var sliceGroups: Int
        package var defaultActiveL0: Int
        package var defaultActiveL1: Int
        package var weightedPrediction: Bool
        package var weightedBipredictionIDC: Int
        package var deblockingFilterControlPresent: Bool
        package var constrainedIntraPrediction: Bool
        package var redundantPicCountPresent: Bool

        package init<C: Collection>(nal: C) throws(SyntaxError) where C.Element == UInt8 {
            guard H264.type(of: nal) == NALType.pictureParameterSet else { throw SyntaxError("not a PPS NAL unit") }
            var bits = BitReader(nalPayload: nal, headerBytes: 1)
            id = try bits.ue(max: 255)
            spsID = try bits.ue(max: 31)
            entropyCodingCABAC = try bits.flag()
            bottomFieldPicOrderInFramePresent = try bits.flag()
            sliceGroups = 1 + (try bits.ue(max: 7))
            if sliceGroups > 1 {
                switch try bits.ue(max: 6) {  // slice_group_map_type
                case 0:
                    for _ in 0..<sliceGroups { _ = try bits.ue() }  // run_length_minus1
                case 2:
                    for _ in 0..<(sliceGroups - 1) { _ = try bits.ue(); _ = try bits.ue() }  // top_left, bottom_right
                case 3, 4, 5:
                    try bits.skip(1)  // slice_group_change_direction_flag
                    _ = try bits.ue()  // slice_group_change_rate_minus1
                case 6:
                    let units = 1 + (try bits.ue(max: 1 << 22))
                    let width = Int.bitWidth - (sliceGroups - 1).leadingZeroBitCount  // Ceil(Log2(groups))
                    // Each id takes at least one bit, so running out of data ends the loop.
                    for _ in 0..<units { try bits.skip(width) }
                default:
                    break
                }
            }
            defaultActiveL0 = 1 + (try bits.ue(max: 31))
            defaultActiveL1 = 1 + (try bits.ue(max: 31))
            weightedPrediction = try bits.flag()
            weightedBipredictionIDC = try bits.bits(2)
            _ = try bits.se()  // pic_init_qp_minus26
            _ = try bits.se()  // pic_init_qs_minus26
            _ = try bits.se()  // chroma_qp_index_offset
            deblockingFilterControlPresent = try bits.flag()
            constrainedIntraPrediction = try bits.flag()
            redundantPicCountPresent = try bits.flag()
        }
    }

    /// One ref_pic_list_modification() command (§7.3.3.1): modification_of_pic_nums_idc and its value
    /// (abs_diff_pic_num_minus1 for 0 and 1, long_term_pic_num for 2).
    package struct ListModification: Sendable, Hashable {
        package var idc: Int
        package var value: Int
    }

    /// One memory_management_control_operation (§7.3.3.3) with the values it carries.
    package struct MarkingOperation: Sendable, Hashable {
        package var operation: Int
        /// difference_of_pic_nums_minus1 (operations 1 and 3).
        package var differenceOfPicNumsMinus1: Int?
        /// long_term_pic_num (2), long_term_frame_idx (3, 6) or max_long_term_frame_idx_plus1 (4).
        package var longTermValue: Int?
    }

    /// dec_ref_pic_marking() (§7.3.3.3).
    package enum ReferenceMarking: Sendable, Hashable {
        /// An IDR picture: no_output_of_prior_pics_flag, long_term_reference_flag.
        case idr(noOutputOfPriorPictures: Bool, longTerm: Bool)
        case slidingWindow
        case adaptive([MarkingOperation])
    }

    package enum SliceKind: Int, Sendable, Hashable {
        case p = 0, b, i, sp, si
    }

    /// A slice header (§7.3.3) as far as dec_ref_pic_marking().
    package struct SliceHeader: Sendable, Hashable {
        package var isIDR: Bool
        /// nal_ref_idc.
        package var referenceIDC: Int
        package var firstMacroblock: Int
        package var kind: SliceKind
        package var ppsID: Int
        package var spsID: Int
        package var colourPlane: Int?
        package var frameNum: Int
        package var fieldPicture: Bool
        package var bottomField: Bool
        package var idrPictureID: Int?
        package var picOrderCountLSB: Int?
        package var redundantPicCount: Int?
        package var directSpatialMVPrediction: Bool?
        /// num_ref_idx_l0/l1_active (the PPS defaults unless overridden); 0 for lists the slice has not.
        package var activeReferences: [Int]
        /// The list 0 and list 1 modification commands, in order.
        package var listModifications: [[ListModification]]
        /// nil for a picture that is not a reference (nal_ref_idc 0).
        package var marking: ReferenceMarking?

        /// Reads the header of a slice NAL unit (type 1 or 5) whose parameter sets are known.
        package init<C: Collection>(nal: C, sequenceSets: [Int: SequenceParameterSet], pictureSets: [Int: PictureParameterSet])
        throws(SyntaxError) where C.Element == UInt8 {
            guard let header = nal.first, [NALType.slice, NALType.idrSlice].contains(Int(header & 0x1f)) else {
                throw SyntaxError("not a slice NAL unit")
            }
            isIDR = Int(header & 0x1f) == NALType.idrSlice
            referenceIDC = Int(header >> 5)
            var bits = BitReader(nalPayload: nal, headerBytes: 1)
            firstMacroblock = try bits.ue()
            kind = SliceKind(rawValue: try bits.ue(max: 9) % 5)!
            ppsID = try bits.ue(max: 255)
            guard let pps = pictureSets[ppsID] else { throw SyntaxError("slice names unknown PPS \(ppsID)") }
            guard let sps = sequenceSets[pps.spsID] else { throw SyntaxError("PPS \(ppsID) names unknown SPS \(pps.spsID)") }
            spsID = pps.spsID
            colourPlane = try sps.separateColourPlanes ? bits.bits(2) : nil
            frameNum = try bits.bits(sps.frameNumBits)
            fieldPicture = false
            bottomField = false
            if !sps.frameMacroblocksOnly, try bits.flag() {
                fieldPicture = true
                bottomField = try bits.flag()
            }
            idrPictureID = try isIDR ? bits.ue(max: 65535) : nil
            picOrderCountLSB = nil
            if sps.picOrderCountType == 0 {
                picOrderCountLSB = try bits.bits(sps.picOrderCountLSBBits)
                if pps.bottomFieldPicOrderInFramePresent, !fieldPicture { _ = try bits.se() }  // delta_pic_order_cnt_bottom
            } else if sps.picOrderCountType == 1, !sps.deltaPicOrderAlwaysZero {
                _ = try bits.se()  // delta_pic_order_cnt[0]
                if pps.bottomFieldPicOrderInFramePresent, !fieldPicture { _ = try bits.se() }
            }
            redundantPicCount = try pps.redundantPicCountPresent ? bits.ue(max: 127) : nil
            let isB = kind == .b, isP = kind == .p || kind == .sp
            directSpatialMVPrediction = try isB ? bits.flag() : nil
            activeReferences = [isP || isB ? pps.defaultActiveL0 : 0, isB ? pps.defaultActiveL1 : 0]
            if isP || isB, try bits.flag() {  // num_ref_idx_active_override_flag
                activeReferences[0] = 1 + (try bits.ue(max: 31))
                if isB { activeReferences[1] = 1 + (try bits.ue(max: 31)) }
            }
            listModifications = [[], []]
            for list in 0..<(isB ? 2 : isP ? 1 : 0) {
                guard try bits.flag() else { continue }  // ref_pic_list_modification_flag_lX
                while true {
                    let idc = try bits.ue(max: 3)
                    if idc == 3 { break }
                    guard listModifications[list].count <= activeReferences[list] else {
                        throw SyntaxError("more list modifications than references")
                    }
                    listModifications[list].append(ListModification(idc: idc, value: try bits.ue()))
                }
            }
            if (pps.weightedPrediction && isP) || (pps.weightedBipredictionIDC == 1 && isB) {
                try Self.skipPredictionWeights(&bits, chroma: sps.chromaArrayType != 0, counts: Array(activeReferences.prefix(isB ? 2 : 1)))
            }
            marking = nil
            if referenceIDC != 0 {
                if isIDR {
                    marking = .idr(noOutputOfPriorPictures: try bits.flag(), longTerm: try bits.flag())
                } else if try bits.flag() {  // adaptive_ref_pic_marking_mode_flag
                    var operations: [MarkingOperation] = []
                    while true {
                        let operation = try bits.ue(max: 6)
                        if operation == 0 { break }
                        guard operations.count < 66 else { throw SyntaxError("too many marking operations") }
                        var step = MarkingOperation(operation: operation)
                        if operation == 1 || operation == 3 { step.differenceOfPicNumsMinus1 = try bits.ue() }
                        if operation != 1, operation != 5 { step.longTermValue = try bits.ue() }
                        operations.append(step)
                    }
                    marking = .adaptive(operations)
                } else {
                    marking = .slidingWindow
                }
            }
        }

        /// pred_weight_table() (§7.3.3.2), read and dropped.
        private static func skipPredictionWeights(_ bits: inout BitReader, chroma: Bool, counts: [Int]) throws(SyntaxError) {
            _ = try bits.ue(max: 7)  // luma_log2_weight_denom
            if chroma { _ = try bits.ue(max: 7) }
            for count in counts {
                for _ in 0..<count {
                    if try bits.flag() { _ = try bits.se(); _ = try bits.se() }  // luma weight, offset
                    if chroma, try bits.flag() {
                        for _ in 0..<4 { _ = try bits.se() }  // chroma weights and offsets
                    }
                }
            }
        }
    }

    /// The SPS and PPS NAL units of H.264 extradata, an avcC record or Annex B, and the NAL length
    /// size of the samples (nil: Annex B).
    package static func parameterSets(inExtradata data: [UInt8]) -> (lengthSize: Int?, sps: [[UInt8]], pps: [[UInt8]]) {
        if data.first == 1 {
            guard let record = try? AVCConfiguration(data) else { return (nil, [], []) }
            return (record.nalLengthSize, record.sequenceParameterSets, record.pictureParameterSets)
        }
        let units = NALUnits.annexB(data).map(Array.init)
        return (nil, units.filter { type(of: $0) == NALType.sequenceParameterSet },
                units.filter { type(of: $0) == NALType.pictureParameterSet })
    }
}

extension H264.MarkingOperation {
    init(operation: Int) { self.init(operation: operation, differenceOfPicNumsMinus1: nil, longTermValue: nil) }
}
