import CFFmpeg
import ClipKitMP4

/// Which pictures of an H.264 group of pictures a given picture predicts from, read from the
/// parameter sets and slice headers only (ITU-T H.264 §7.3.2–7.3.3, §8.2.4–8.2.5): no decoding.
///
/// The last frame needs only its own reference chain. Pictures nothing references are easy to leave
/// out (nal_ref_idc 0), but encoders also mark B-pictures as references (B-pyramid) that later
/// P-pictures never use: whether they do is written in each slice header (how many list entries are
/// active, how the list is reordered, which pictures the marking commands drop). A reference picture
/// left out of the decode leaves a frame_num gap, which the decoder fills with a placeholder in the
/// same slot (§8.2.5.2). The model replays the picture buffer twice, for the full stream and for the
/// pictures actually sent, and answers only if every sent picture sees the same references in both.
/// Anything it does not follow exactly (fields, long-term references, unknown parameter sets, gaps
/// in the stream itself) makes it answer nil, and the caller decodes every reference picture instead.
struct H264References {
    private let nalLengthSize: Int
    private var sequenceSets: [Int: SequenceSet] = [:]
    private var pictureSets: [Int: PictureSet] = [:]

    /// The model of an H.264 stream stored with an avcC record (MP4, MOV); nil for anything else.
    init?(stream: UnsafeMutablePointer<AVStream>) {
        let parameters = stream.pointee.codecpar.pointee
        guard parameters.codec_id == AV_CODEC_ID_H264, let extradata = parameters.extradata, parameters.extradata_size > 0
        else { return nil }
        self.init(avcC: Array(UnsafeBufferPointer(start: extradata, count: Int(parameters.extradata_size))))
    }

    /// Reads the avcC record (ISO/IEC 14496-15) of an MP4 H.264 track: NAL length size, SPS and PPS.
    init?(avcC: [UInt8]) {
        guard avcC.count > 6, avcC[0] == 1 else { return nil }
        nalLengthSize = Int(avcC[4] & 3) + 1
        var offset = 5
        for (isSPS, countMask) in [(true, UInt8(0x1f)), (false, UInt8(0xff))] {
            guard offset < avcC.count else { return nil }
            let count = Int(avcC[offset] & countMask)
            offset += 1
            for _ in 0..<count {
                guard offset + 2 <= avcC.count else { return nil }
                let length = Int(avcC[offset]) << 8 | Int(avcC[offset + 1])
                offset += 2
                guard offset + length <= avcC.count else { return nil }
                guard remember(parameterSet: avcC[offset..<(offset + length)], isSPS: isSPS) else { return nil }
                offset += length
            }
        }
    }

    /// Indices into `packets` (one group of pictures in decode order, starting with an IDR picture,
    /// one access unit per packet) that must be decoded to reconstruct `packets[target]`, itself
    /// included. Nil when the headers hold anything this model does not follow.
    func picturesNeeded(toDecode target: Int, packets: [UnsafeRawBufferPointer]) -> Set<Int>? {
        var tables = self
        var pictures: [Picture] = []
        for packet in packets.prefix(target + 1) {
            guard let picture = tables.parsePicture(packet) else { return nil }
            pictures.append(picture)
        }
        guard pictures.count == target + 1, pictures[0].isIDR, !pictures.dropFirst().contains(where: \.isIDR),
              let sps = tables.sequenceSets[pictures[0].spsID], pictures.allSatisfy({ $0.spsID == pictures[0].spsID }),
              let full = Self.references(of: pictures, sps: sps, sending: nil)
        else { return nil }
        // References always point back in decode order, so one backward sweep closes the set.
        var needed: Set<Int> = [target]
        for index in stride(from: target, through: 0, by: -1) where needed.contains(index) {
            needed.formUnion(full[index]!.joined().compactMap { $0 })
        }
        let skipped = pictures.indices.filter { !needed.contains($0) }
        // A parameter set carried by a picture left out would never reach the decoder.
        guard !skipped.contains(where: { pictures[$0].carriesParameterSets }) else { return nil }
        // Picture order counts are not replayed: after a reference picture left out, the decoder may derive
        // other ones, harmless for P-pictures (only output order, which the caller checks) but not for the
        // list order, direct prediction and implicit weights of a B-picture.
        if let firstSkippedReference = skipped.first(where: { pictures[$0].isReference }),
           needed.contains(where: { $0 > firstSkippedReference && pictures[$0].hasBidirectionalSlice }) { return nil }
        guard let sent = Self.references(of: pictures, sps: sps, sending: needed),
              needed.allSatisfy({ sent[$0] == full[$0] })
        else { return nil }
        return needed
    }

    /// Replays the decoded picture buffer over `pictures` as a decoder receiving only `sending` (all
    /// when nil) would: for each picture received, per slice, the pictures it may predict from in
    /// list order (nil: a placeholder for a picture never received). Nil if the stream leaves the model.
    private static func references(of pictures: [Picture], sps: SequenceSet, sending: Set<Int>?) -> [Int: [[Int?]]]? {
        var dpb: [StoredPicture] = []
        var previousFrameNum = 0
        var result: [Int: [[Int?]]] = [:]
        func store(_ picture: StoredPicture, marking: [Int]?) -> Bool {
            let picNum = { (stored: StoredPicture) in frameNumWrap(stored.frameNum, current: picture.frameNum, max: sps.maxFrameNum) }
            if let marking {
                // memory_management_control_operation 1: PicNum = CurrPicNum - difference is no longer used.
                for difference in marking {
                    guard let found = dpb.firstIndex(where: { picNum($0) == picture.frameNum - difference }) else { return false }
                    dpb.remove(at: found)
                }
            } else if dpb.count >= max(sps.maxReferenceFrames, 1) {
                dpb.remove(at: dpb.indices.min { picNum(dpb[$0]) < picNum(dpb[$1]) }!)  // sliding window (§8.2.5.3)
            }
            dpb.append(picture)
            // An overfull store is a stream error that decoders repair each in their own way: not followed.
            guard dpb.count <= max(sps.maxReferenceFrames, 1) else { return false }
            previousFrameNum = picture.frameNum
            return true
        }
        for (index, picture) in pictures.enumerated() where sending?.contains(index) ?? true {
            if picture.isIDR {
                dpb.removeAll()
            } else {
                var missing = (previousFrameNum + 1) % sps.maxFrameNum
                // A gap in the full stream is the encoder's own and is not followed.
                guard sending != nil || picture.frameNum == missing else { return nil }
                while missing != picture.frameNum {
                    _ = store(StoredPicture(index: nil, frameNum: missing), marking: nil)
                    missing = (missing + 1) % sps.maxFrameNum
                }
            }
            var lists: [[Int?]] = []
            for slice in picture.slices {
                switch slice.kind {
                case .intra:
                    lists.append([])
                case .bidirectional:
                    // B lists are ordered by picture order count, not modelled: every stored picture is a safe superset.
                    lists.append(listP(dpb, frameNum: picture.frameNum, maxFrameNum: sps.maxFrameNum)!.map(\.index))
                case .predicted(let activeCount, let modifications):
                    guard let list = listP(dpb, frameNum: picture.frameNum, maxFrameNum: sps.maxFrameNum,
                                           modifications: modifications) else { return nil }
                    lists.append(list.prefix(activeCount).map(\.index))
                }
            }
            result[index] = lists
            if picture.isReference, !store(StoredPicture(index: index, frameNum: picture.frameNum), marking: picture.marking) {
                return nil
            }
        }
        return result
    }

    // MARK: - Reference lists

    /// A short-term reference picture in the decoded picture buffer; `index` nil for a placeholder.
    private struct StoredPicture {
        var index: Int?
        var frameNum: Int
    }

    /// FrameNumWrap (§8.2.4.1), which is also PicNum for frames: frame numbers above the current one
    /// wrapped around and are older.
    private static func frameNumWrap(_ frameNum: Int, current: Int, max: Int) -> Int {
        frameNum > current ? frameNum - max : frameNum
    }

    /// The P-slice list 0 (§8.2.4.2.1: short-term pictures by descending PicNum), then reordered by the
    /// slice's modification commands (§8.2.4.3.1). Nil if a command names a picture not in the store.
    private static func listP(_ dpb: [StoredPicture], frameNum: Int, maxFrameNum: Int,
                              modifications: [PictureNumberChange] = []) -> [StoredPicture]? {
        let picNum = { (reference: StoredPicture) in frameNumWrap(reference.frameNum, current: frameNum, max: maxFrameNum) }
        var list = dpb.sorted { picNum($0) > picNum($1) }
        var predicted = frameNum
        for (position, change) in modifications.enumerated() {
            var noWrap = change.subtract ? predicted - change.difference : predicted + change.difference
            if noWrap < 0 { noWrap += maxFrameNum } else if noWrap >= maxFrameNum { noWrap -= maxFrameNum }
            predicted = noWrap
            let wanted = frameNumWrap(noWrap, current: frameNum, max: maxFrameNum)
            guard let found = list.firstIndex(where: { picNum($0) == wanted }) else { return nil }
            let picture = list.remove(at: found)
            list.insert(picture, at: min(position, list.count))
        }
        return list
    }

    // MARK: - Parameter sets

    private struct SequenceSet {
        var separateColourPlanes: Bool
        var chromaArrayType: Int
        var frameNumBits: Int
        var pocType: Int
        var pocLSBBits: Int
        var deltaPicOrderAlwaysZero: Bool
        var maxReferenceFrames: Int

        var maxFrameNum: Int { 1 << frameNumBits }
    }

    private struct PictureSet {
        var spsID: Int
        var bottomFieldPicOrderPresent: Bool
        var defaultActiveL0: Int
        var defaultActiveL1: Int
        var weightedPrediction: Bool
        var weightedBipredictionIDC: Int
        var redundantPicCountPresent: Bool
    }

    /// Stores an SPS or PPS (NAL unit with its header byte). False if it cannot be parsed.
    private mutating func remember(parameterSet nal: ArraySlice<UInt8>, isSPS: Bool) -> Bool {
        var bits = BitReader(ParameterSets.removingEmulationPrevention(Array(nal.dropFirst())))
        if isSPS {
            guard let (id, sps) = Self.parseSPS(&bits) else { return false }
            sequenceSets[id] = sps
        } else {
            guard let (id, pps) = Self.parsePPS(&bits) else { return false }
            pictureSets[id] = pps
        }
        return true
    }

    private static func parseSPS(_ bits: inout BitReader) -> (Int, SequenceSet)? {
        guard let profile = bits.read(8), bits.read(16) != nil, let id = bits.readExpGolomb() else { return nil }
        var chromaFormat = 1, separatePlanes = false
        if [100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135].contains(profile) {
            guard let format = bits.readExpGolomb() else { return nil }
            chromaFormat = format
            if format == 3 { separatePlanes = bits.read(1) == 1 }
            guard bits.readExpGolomb() != nil, bits.readExpGolomb() != nil, bits.read(1) != nil,  // depths, bypass
                  let scalingPresent = bits.read(1) else { return nil }
            if scalingPresent == 1 {
                for list in 0..<(chromaFormat == 3 ? 12 : 8) {
                    guard let present = bits.read(1) else { return nil }
                    if present == 1, !skipScalingList(&bits, size: list < 6 ? 16 : 64) { return nil }
                }
            }
        }
        guard let frameNumBitsMinus4 = bits.readExpGolomb(), let pocType = bits.readExpGolomb() else { return nil }
        var pocLSBBits = 0, alwaysZero = false
        switch pocType {
        case 0:
            guard let lsbMinus4 = bits.readExpGolomb() else { return nil }
            pocLSBBits = lsbMinus4 + 4
        case 1:
            guard let zero = bits.read(1), bits.readSignedExpGolomb() != nil, bits.readSignedExpGolomb() != nil,
                  let cycle = bits.readExpGolomb(), cycle < 256 else { return nil }
            alwaysZero = zero == 1
            for _ in 0..<cycle where bits.readSignedExpGolomb() == nil { return nil }
        case 2:
            break
        default:
            return nil
        }
        guard let maxReferences = bits.readExpGolomb(), bits.read(1) != nil,  // gaps_in_frame_num_value_allowed_flag
              bits.readExpGolomb() != nil, bits.readExpGolomb() != nil,  // size in macroblocks
              bits.read(1) == 1,  // frame_mbs_only_flag: field coding is not modelled
              frameNumBitsMinus4 <= 12
        else { return nil }
        let frameNumBits = frameNumBitsMinus4 + 4
        return (id, SequenceSet(separateColourPlanes: separatePlanes, chromaArrayType: separatePlanes ? 0 : chromaFormat,
                                frameNumBits: frameNumBits, pocType: pocType, pocLSBBits: pocLSBBits,
                                deltaPicOrderAlwaysZero: alwaysZero, maxReferenceFrames: maxReferences))
    }

    private static func skipScalingList(_ bits: inout BitReader, size: Int) -> Bool {
        var last = 8, next = 8
        for _ in 0..<size where next != 0 {
            guard let delta = bits.readSignedExpGolomb() else { return false }
            next = (last + delta + 256) % 256
            last = next == 0 ? last : next
        }
        return true
    }

    private static func parsePPS(_ bits: inout BitReader) -> (Int, PictureSet)? {
        guard let id = bits.readExpGolomb(), let spsID = bits.readExpGolomb(), bits.read(1) != nil,  // entropy coding
              let bottomField = bits.read(1), bits.readExpGolomb() == 0,  // one slice group only
              let l0 = bits.readExpGolomb(), let l1 = bits.readExpGolomb(),
              let weighted = bits.read(1), let bipred = bits.read(2),
              bits.readSignedExpGolomb() != nil, bits.readSignedExpGolomb() != nil, bits.readSignedExpGolomb() != nil,
              bits.read(2) != nil,  // deblocking control, constrained intra
              let redundant = bits.read(1)
        else { return nil }
        return (id, PictureSet(spsID: spsID, bottomFieldPicOrderPresent: bottomField == 1, defaultActiveL0: l0 + 1,
                               defaultActiveL1: l1 + 1, weightedPrediction: weighted == 1,
                               weightedBipredictionIDC: bipred, redundantPicCountPresent: redundant == 1))
    }

    // MARK: - Slice headers

    private struct PictureNumberChange {
        var subtract: Bool
        var difference: Int
    }

    private enum SliceKind {
        case intra
        case predicted(activeCount: Int, modifications: [PictureNumberChange])
        case bidirectional
    }

    private struct Slice {
        var kind: SliceKind
        var marking: [Int]?
    }

    private struct Picture {
        var isIDR: Bool
        var isReference: Bool
        var frameNum: Int
        var spsID: Int
        /// PicNum differences of the pictures the marking commands drop; nil for sliding-window marking.
        var marking: [Int]?
        var slices: [Slice]
        /// An SPS or PPS travels in the same access unit.
        var carriesParameterSets = false

        var hasBidirectionalSlice: Bool {
            slices.contains { if case .bidirectional = $0.kind { true } else { false } }
        }
    }

    /// Parses every slice header of one access unit (length-prefixed NAL units), taking in-band
    /// parameter sets on the way.
    private mutating func parsePicture(_ packet: UnsafeRawBufferPointer) -> Picture? {
        var picture: Picture?
        var carriesParameterSets = false
        var offset = 0
        while offset + nalLengthSize <= packet.count {
            var length = 0
            for i in 0..<nalLengthSize { length = length << 8 | Int(packet[offset + i]) }
            offset += nalLengthSize
            guard length > 0, offset + length <= packet.count else { return nil }
            let nal = UnsafeRawBufferPointer(rebasing: packet[offset..<(offset + length)])
            offset += length
            let type = Int(nal[0] & 0x1f), referenceIDC = Int(nal[0] >> 5)
            switch type {
            case 1, 5:
                // The header fields needed sit well inside the first bytes of the slice.
                let header = ParameterSets.removingEmulationPrevention(Array(nal.prefix(1024).dropFirst()))
                var bits = BitReader(header)
                guard let (spsID, frameNum, slice) = parseSliceHeader(&bits, isIDR: type == 5, isReference: referenceIDC != 0)
                else { return nil }
                if let first = picture {
                    // Every slice of a picture repeats the same frame number and marking.
                    guard first.frameNum == frameNum, first.isIDR == (type == 5), first.marking == slice.marking else { return nil }
                    picture!.slices.append(slice)
                } else {
                    picture = Picture(isIDR: type == 5, isReference: referenceIDC != 0, frameNum: frameNum,
                                      spsID: spsID, marking: slice.marking, slices: [slice])
                }
            case 7, 8:
                guard remember(parameterSet: ArraySlice(nal), isSPS: type == 7) else { return nil }
                carriesParameterSets = true
            case 2, 3, 4, 20, 21:
                return nil  // data partitioning and SVC/MVC extensions are not modelled
            default:
                continue
            }
        }
        picture?.carriesParameterSets = carriesParameterSets
        return picture
    }

    /// Reads a slice header (§7.3.3) as far as the reference marking. Returns its SPS, frame_num and
    /// what it may reference.
    private func parseSliceHeader(_ bits: inout BitReader, isIDR: Bool, isReference: Bool) -> (Int, Int, Slice)? {
        guard bits.readExpGolomb() != nil, let sliceType = bits.readExpGolomb().map({ $0 % 5 }),
              let ppsID = bits.readExpGolomb(), let pps = pictureSets[ppsID], let sps = sequenceSets[pps.spsID]
        else { return nil }
        if sps.separateColourPlanes, bits.read(2) == nil { return nil }  // colour_plane_id
        guard let frameNum = bits.read(sps.frameNumBits) else { return nil }
        if isIDR, bits.readExpGolomb() == nil { return nil }  // idr_pic_id
        if sps.pocType == 0 {
            guard bits.read(sps.pocLSBBits) != nil else { return nil }
            if pps.bottomFieldPicOrderPresent, bits.readSignedExpGolomb() == nil { return nil }
        } else if sps.pocType == 1, !sps.deltaPicOrderAlwaysZero {
            guard bits.readSignedExpGolomb() != nil else { return nil }
            if pps.bottomFieldPicOrderPresent, bits.readSignedExpGolomb() == nil { return nil }
        }
        if pps.redundantPicCountPresent {
            guard bits.readExpGolomb() == 0 else { return nil }  // redundant pictures are not modelled
        }
        // slice_type % 5: 0 P, 1 B, 2 I, 3 SP, 4 SI.
        let isB = sliceType == 1, isP = sliceType == 0 || sliceType == 3
        if isB, bits.read(1) == nil { return nil }  // direct_spatial_mv_pred_flag
        var active = (pps.defaultActiveL0, pps.defaultActiveL1)
        if isP || isB {
            guard let override = bits.read(1) else { return nil }
            if override == 1 {
                guard let l0 = bits.readExpGolomb() else { return nil }
                active.0 = l0 + 1
                if isB {
                    guard let l1 = bits.readExpGolomb() else { return nil }
                    active.1 = l1 + 1
                }
            }
        }
        var modifications: [[PictureNumberChange]] = [[], []]
        for list in 0..<(isB ? 2 : isP ? 1 : 0) {
            guard let present = bits.read(1) else { return nil }
            guard present == 1 else { continue }
            while true {
                guard let idc = bits.readExpGolomb() else { return nil }
                if idc == 3 { break }
                guard idc <= 1, let difference = bits.readExpGolomb() else { return nil }  // 2: long-term
                modifications[list].append(PictureNumberChange(subtract: idc == 0, difference: difference + 1))
            }
        }
        if (pps.weightedPrediction && isP) || (pps.weightedBipredictionIDC == 1 && isB) {
            guard Self.skipPredictionWeights(&bits, chroma: sps.chromaArrayType != 0,
                                             counts: isB ? [active.0, active.1] : [active.0]) else { return nil }
        }
        var marking: [Int]?
        if isReference {
            if isIDR {
                guard bits.read(1) != nil, bits.read(1) == 0 else { return nil }  // long_term_reference_flag
            } else {
                guard let adaptive = bits.read(1) else { return nil }
                if adaptive == 1 {
                    marking = []
                    while true {
                        guard let operation = bits.readExpGolomb() else { return nil }
                        if operation == 0 { break }
                        // Only "drop this short-term picture" is modelled; long-term and reset operations are not.
                        guard operation == 1, let differenceMinus1 = bits.readExpGolomb() else { return nil }
                        marking!.append(differenceMinus1 + 1)
                    }
                }
            }
        }
        let kind: SliceKind = isB ? .bidirectional
            : isP ? .predicted(activeCount: active.0, modifications: modifications[0]) : .intra
        return (pps.spsID, frameNum, Slice(kind: kind, marking: marking))
    }

    private static func skipPredictionWeights(_ bits: inout BitReader, chroma: Bool, counts: [Int]) -> Bool {
        guard bits.readExpGolomb() != nil else { return false }  // luma_log2_weight_denom
        if chroma, bits.readExpGolomb() == nil { return false }
        for count in counts {
            for _ in 0..<count {
                guard let luma = bits.read(1) else { return false }
                if luma == 1, bits.readSignedExpGolomb() == nil || bits.readSignedExpGolomb() == nil { return false }
                guard chroma else { continue }
                guard let chromaFlag = bits.read(1) else { return false }
                if chromaFlag == 1 {
                    for _ in 0..<4 where bits.readSignedExpGolomb() == nil { return false }
                }
            }
        }
        return true
    }
}

extension BitReader {
    /// Signed Exp-Golomb se(v): 1, −1, 2, −2, … for codes 1, 2, 3, 4, …
    mutating func readSignedExpGolomb() -> Int? {
        guard let code = readExpGolomb() else { return nil }
        return code & 1 == 1 ? (code + 1) / 2 : -(code / 2)
    }
}
