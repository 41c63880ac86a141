/// The few facts probe needs from a codec's parameter sets (H.264 SPS, HEVC hvcC), read straight from
/// the container's extradata so probing never has to decode a frame. Pure Swift: used by the MP4 fast
/// path and by `ClipKitMedia` for what FFmpeg's demuxer leaves unset.
package struct ParameterSets: Sendable, Hashable {
    /// The profile number as FFmpeg reports it (FF_PROFILE_*), constraint flags included.
    package var profile: Int32
    /// 0 monochrome, 1 = 4:2:0, 2 = 4:2:2, 3 = 4:4:4.
    package var chromaFormat: Int
    package var bitDepth: Int

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
        guard let sps = firstH264SPS(extradata) else { return nil }
        var bits = BitReader(removingEmulationPrevention(sps).dropFirst())  // skip the NAL header
        guard let profileIDC = bits.read(8), let constraints = bits.read(8), bits.read(8) != nil,
              bits.readExpGolomb() != nil
        else { return nil }
        var chroma = 1, depth = 8
        if [100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135].contains(profileIDC) {
            guard let c = bits.readExpGolomb() else { return nil }
            chroma = c
            if chroma == 3 { _ = bits.read(1) }
            guard let lumaMinus8 = bits.readExpGolomb() else { return nil }
            depth = 8 + lumaMinus8
        }
        // The profile number FFmpeg reports (ff_h264_get_profile): constraint flags refine it.
        var profile = Int32(profileIDC)
        if profileIDC == 66, constraints & 0x40 != 0 { profile |= 1 << 9 }  // FF_PROFILE_H264_CONSTRAINED
        if [110, 122, 244].contains(profileIDC), constraints & 0x10 != 0 { profile |= 1 << 11 }  // ..._INTRA
        return ParameterSets(profile: profile, chromaFormat: chroma, bitDepth: depth)
    }

    /// Parses an hvcC record: profile, chroma format and bit depth sit at fixed offsets.
    package static func hevc(_ extradata: [UInt8]) -> ParameterSets? {
        guard extradata.count >= 23, extradata[0] == 1 else { return nil }
        return ParameterSets(profile: Int32(extradata[1] & 0x1f), chromaFormat: Int(extradata[16] & 0x03),
                             bitDepth: 8 + Int(extradata[17] & 0x07))
    }

    private static func firstH264SPS(_ data: [UInt8]) -> [UInt8]? {
        if data.first == 1 {  // avcC: version, profile, compat, level, length size, SPS count, then 16-bit length + SPS
            guard data.count > 8, data[5] & 0x1f > 0 else { return nil }
            let length = Int(data[6]) << 8 | Int(data[7])
            guard data.count >= 8 + length else { return nil }
            return Array(data[8..<(8 + length)])
        }
        // Annex B: 00 00 01 start codes; the SPS is NAL type 7.
        var i = 0
        while i + 3 < data.count {
            if data[i] == 0, data[i + 1] == 0, data[i + 2] == 1 {
                let start = i + 3
                if data[start] & 0x1f == 7 {
                    var end = start + 1
                    while end + 2 < data.count, !(data[end] == 0 && data[end + 1] == 0 && data[end + 2] <= 1) { end += 1 }
                    return Array(data[start..<min(end + 2, data.count)])
                }
                i = start
            } else {
                i += 1
            }
        }
        return nil
    }

    /// NAL payloads escape 00 00 0x as 00 00 03 0x; the bit reader needs the raw bits.
    package static func removingEmulationPrevention(_ nal: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(nal.count)
        var zeros = 0
        for byte in nal {
            if zeros >= 2, byte == 3 {
                zeros = 0
                continue
            }
            zeros = byte == 0 ? zeros + 1 : 0
            out.append(byte)
        }
        return out
    }
}

/// Reads big-endian bits and unsigned Exp-Golomb codes, returning nil past the end.
package struct BitReader {
    private let bytes: [UInt8]
    private var position = 0

    package init<S: Sequence>(_ bytes: S) where S.Element == UInt8 { self.bytes = Array(bytes) }

    package mutating func read(_ count: Int) -> Int? {
        guard position + count <= bytes.count * 8 else { return nil }
        var value = 0
        for _ in 0..<count {
            value = value << 1 | Int(bytes[position >> 3] >> (7 - UInt8(position & 7)) & 1)
            position += 1
        }
        return value
    }

    package mutating func readExpGolomb() -> Int? {
        var zeros = 0
        while true {
            guard let bit = read(1) else { return nil }
            if bit == 1 { break }
            zeros += 1
            if zeros > 31 { return nil }
        }
        guard let suffix = read(zeros) else { return nil }
        return (1 << zeros) - 1 + suffix
    }
}
