/// Splits the NAL units of an access unit or of extradata, as MP4 stores them (each prefixed by its
/// length) or as a byte stream (Annex B start codes).
package enum NALUnits {
    /// The NAL units of length-prefixed data (an MP4 sample); nil if a length runs past the end or
    /// the length size is not 1 to 4 bytes.
    package static func lengthPrefixed<C: RandomAccessCollection>(_ bytes: C, lengthSize: Int) -> [C.SubSequence]?
    where C.Element == UInt8, C.Index == Int {
        guard (1...4).contains(lengthSize) else { return nil }
        var units: [C.SubSequence] = []
        var offset = bytes.startIndex
        while offset < bytes.endIndex {
            guard bytes.endIndex - offset >= lengthSize else { return nil }
            var length = 0
            for i in 0..<lengthSize { length = length << 8 | Int(bytes[offset + i]) }
            offset += lengthSize
            guard length <= bytes.endIndex - offset else { return nil }
            if length > 0 { units.append(bytes[offset..<(offset + length)]) }
            offset += length
        }
        return units
    }

    /// The NAL units between `00 00 01` start codes (a leading zero of a four-byte start code and
    /// trailing zeros are not part of a unit).
    package static func annexB<C: RandomAccessCollection>(_ bytes: C) -> [C.SubSequence]
    where C.Element == UInt8, C.Index == Int {
        var starts: [(code: Int, payload: Int)] = []
        var i = bytes.startIndex
        while i + 2 < bytes.endIndex {
            if bytes[i] == 0, bytes[i + 1] == 0, bytes[i + 2] == 1 {
                starts.append((i, i + 3))
                i += 3
            } else {
                i += 1
            }
        }
        return starts.indices.compactMap { k in
            var end = k + 1 < starts.count ? starts[k + 1].code : bytes.endIndex
            while end > starts[k].payload, bytes[end - 1] == 0 { end -= 1 }
            return end > starts[k].payload ? bytes[starts[k].payload..<end] : nil
        }
    }

    /// Length-prefixed when `lengthSize` is given (from the avcC/hvcC record), else Annex B.
    package static func split<C: RandomAccessCollection>(_ bytes: C, lengthSize: Int?) -> [C.SubSequence]?
    where C.Element == UInt8, C.Index == Int {
        guard let lengthSize else { return annexB(bytes) }
        return lengthPrefixed(bytes, lengthSize: lengthSize)
    }
}

/// An H.264 decoder configuration record (avcC, ISO/IEC 14496-15 §5.3.3): the NAL length size and
/// the parameter sets an MP4 track carries out of band.
package struct AVCConfiguration: Sendable, Hashable {
    package var nalLengthSize: Int
    /// SPS NAL units, header byte included.
    package var sequenceParameterSets: [[UInt8]]
    /// PPS NAL units, header byte included.
    package var pictureParameterSets: [[UInt8]]

    package init<C: Collection>(_ record: C) throws(SyntaxError) where C.Element == UInt8 {
        let bytes = Array(record)
        guard bytes.count >= 7, bytes[0] == 1 else { throw SyntaxError("not an avcC record") }
        nalLengthSize = Int(bytes[4] & 3) + 1
        var offset = 5
        var lists: [[[UInt8]]] = []
        for countMask in [UInt8(0x1f), 0xff] {
            guard offset < bytes.count else { throw SyntaxError("avcC ends before its parameter set count") }
            let count = Int(bytes[offset] & countMask)
            offset += 1
            var units: [[UInt8]] = []
            for _ in 0..<count {
                guard bytes.count - offset >= 2 else { throw SyntaxError("avcC ends inside a parameter set length") }
                let length = Int(bytes[offset]) << 8 | Int(bytes[offset + 1])
                offset += 2
                guard length > 0, length <= bytes.count - offset else { throw SyntaxError("avcC parameter set overruns the record") }
                units.append(Array(bytes[offset..<(offset + length)]))
                offset += length
            }
            lists.append(units)
        }
        sequenceParameterSets = lists[0]
        pictureParameterSets = lists[1]
    }
}

/// An HEVC decoder configuration record (hvcC, ISO/IEC 14496-15 §8.3.3): the general profile, chroma
/// format and bit depth at fixed offsets, the NAL length size, and the parameter set arrays.
package struct HEVCConfiguration: Sendable, Hashable {
    package var profileIDC: Int
    package var chromaFormat: Int
    package var bitDepthLuma: Int
    package var nalLengthSize: Int
    /// Every NAL unit of the arrays (VPS, SPS, PPS, SEI), header bytes included.
    package var nalUnits: [[UInt8]]

    package init<C: Collection>(_ record: C) throws(SyntaxError) where C.Element == UInt8 {
        let bytes = Array(record)
        guard bytes.count >= 23, bytes[0] == 1 else { throw SyntaxError("not an hvcC record") }
        profileIDC = Int(bytes[1] & 0x1f)
        chromaFormat = Int(bytes[16] & 0x03)
        bitDepthLuma = 8 + Int(bytes[17] & 0x07)
        nalLengthSize = Int(bytes[21] & 3) + 1
        var units: [[UInt8]] = []
        var offset = 23
        for _ in 0..<Int(bytes[22]) {
            guard bytes.count - offset >= 3 else { throw SyntaxError("hvcC ends inside an array header") }
            let count = Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2])
            offset += 3
            for _ in 0..<count {
                guard bytes.count - offset >= 2 else { throw SyntaxError("hvcC ends inside a NAL unit length") }
                let length = Int(bytes[offset]) << 8 | Int(bytes[offset + 1])
                offset += 2
                guard length <= bytes.count - offset else { throw SyntaxError("hvcC NAL unit overruns the record") }
                if length > 0 { units.append(Array(bytes[offset..<(offset + length)])) }
                offset += length
            }
        }
        nalUnits = units
    }
}
