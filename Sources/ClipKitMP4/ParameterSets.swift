/// The few facts probe needs from a codec's parameter sets (H.264 SPS, HEVC hvcC and SPS), read
/// straight from the container's extradata so probing never has to decode a frame. Pure Swift: used
/// by the MP4 fast path and by `ClipKitMedia` for what FFmpeg's demuxer leaves unset.
package struct ParameterSets: Sendable, Hashable {
    /// The profile number as FFmpeg reports it (FF_PROFILE_*), constraint flags included.
    package var profile: Int32
    /// 0 monochrome, 1 = 4:2:0, 2 = 4:2:2, 3 = 4:4:4.
    package var chromaFormat: Int
    package var bitDepth: Int
    /// Range and colour as the SPS's VUI states them.
    package var signal: VideoSignal
    /// The length prefix of each NAL unit in a sample; nil for Annex B extradata (start codes).
    package var nalLengthSize: Int?
    /// user_data_unregistered texts of SEI units stored with the parameter sets (x265 puts its own there
    /// when FFmpeg asks for global headers, as the MP4 muxer does).
    package var userDataTexts: [String] = []

    /// The FFmpeg pixel format name a decoder would output.
    package func pixelFormatName(fullRange: Bool) -> String? {
        let base: String
        switch chromaFormat {
        case 0: return bitDepth == 8 ? "gray" : "gray\(bitDepth)le"
        case 1: base = "yuv420p"
        case 2: base = "yuv422p"
        case 3: base = "yuv444p"
        default: return nil
        }
        if bitDepth != 8 { return "\(base)\(bitDepth)le" }
        return fullRange ? "yuvj" + base.dropFirst(3) : base
    }

    /// Parses an avcC record (ISO/IEC 14496-15) or Annex B extradata holding an SPS.
    package static func h264(_ extradata: [UInt8]) -> ParameterSets? {
        let sets = H264.parameterSets(inExtradata: extradata)
        guard let nal = sets.sps.first, let sps = try? H264.SequenceParameterSet(nal: nal) else { return nil }
        let sei = sets.lengthSize == nil ? NALUnits.annexB(extradata).flatMap { SEI.userDataTexts(inNALUnit: $0, codec: .h264) } : []
        // The profile number FFmpeg reports (ff_h264_get_profile): constraint flags refine it.
        var profile = Int32(sps.profileIDC)
        if sps.profileIDC == 66, sps.constraintFlags & 0x40 != 0 { profile |= 1 << 9 }  // FF_PROFILE_H264_CONSTRAINED
        if [110, 122, 244].contains(sps.profileIDC), sps.constraintFlags & 0x10 != 0 { profile |= 1 << 11 }  // ..._INTRA
        return ParameterSets(profile: profile, chromaFormat: sps.chromaFormat, bitDepth: sps.bitDepthLuma,
                             signal: sps.signal, nalLengthSize: sets.lengthSize, userDataTexts: sei)
    }

    /// Parses an hvcC record: profile, chroma format and bit depth sit at fixed offsets; the VUI is
    /// read from the record's first SPS.
    package static func hevc(_ extradata: [UInt8]) -> ParameterSets? {
        guard let record = try? HEVCConfiguration(extradata) else { return nil }
        let sps = record.nalUnits.first { HEVC.type(of: $0) == HEVC.NALType.sequenceParameterSet }
        let signal = sps.flatMap { try? HEVC.SequenceParameterSet(nal: $0) }?.signal ?? .absent
        return ParameterSets(profile: Int32(record.profileIDC), chromaFormat: record.chromaFormat, bitDepth: record.bitDepthLuma,
                             signal: signal, nalLengthSize: record.nalLengthSize,
                             userDataTexts: record.nalUnits.flatMap { SEI.userDataTexts(inNALUnit: $0, codec: .hevc) })
    }
}
