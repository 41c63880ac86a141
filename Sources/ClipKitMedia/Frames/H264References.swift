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
    private var sequenceSets: [Int: H264.SequenceParameterSet] = [:]
    private var pictureSets: [Int: H264.PictureParameterSet] = [:]

    /// The model of an H.264 stream stored with an avcC record (MP4, MOV); nil for anything else.
    init?(stream: UnsafeMutablePointer<AVStream>) {
        let parameters = stream.pointee.codecpar.pointee
        guard parameters.codec_id == AV_CODEC_ID_H264, let extradata = parameters.extradata, parameters.extradata_size > 0
        else { return nil }
        self.init(avcC: Array(UnsafeBufferPointer(start: extradata, count: Int(parameters.extradata_size))))
    }

    /// Reads the avcC record (ISO/IEC 14496-15) of an MP4 H.264 track: NAL length size, SPS and PPS.
    init?(avcC: [UInt8]) {
        guard let record = try? AVCConfiguration(avcC) else { return nil }
        nalLengthSize = record.nalLengthSize
        for nal in record.sequenceParameterSets + record.pictureParameterSets {
            guard remember(parameterSet: nal) else { return nil }
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
    private static func references(of pictures: [Picture], sps: H264.SequenceParameterSet, sending: Set<Int>?) -> [Int: [[Int?]]]? {
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

    /// Stores an SPS or PPS NAL unit. False if it cannot be parsed or uses what the model does not
    /// follow: field coding (frame_mbs_only_flag 0) or slice groups.
    private mutating func remember<C: Collection>(parameterSet nal: C) -> Bool where C.Element == UInt8 {
        switch H264.type(of: nal) {
        case H264.NALType.sequenceParameterSet:
            guard let sps = try? H264.SequenceParameterSet(nal: nal), sps.frameMacroblocksOnly else { return false }
            sequenceSets[sps.id] = sps
        case H264.NALType.pictureParameterSet:
            guard let pps = try? H264.PictureParameterSet(nal: nal), pps.sliceGroups == 1 else { return false }
            pictureSets[pps.id] = pps
        default:
            return false
        }
        return true
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
        guard let units = NALUnits.lengthPrefixed(packet, lengthSize: nalLengthSize) else { return nil }
        for nal in units {
            switch H264.type(of: nal) ?? 0 {
            case H264.NALType.slice, H264.NALType.idrSlice:
                // The header fields needed sit well inside the first bytes of the slice.
                guard let header = try? H264.SliceHeader(nal: nal.prefix(1024), sequenceSets: sequenceSets, pictureSets: pictureSets),
                      let slice = Self.slice(header)
                else { return nil }
                if let first = picture {
                    // Every slice of a picture repeats the same frame number and marking.
                    guard first.frameNum == header.frameNum, first.isIDR == header.isIDR, first.marking == slice.marking else { return nil }
                    picture!.slices.append(slice)
                } else {
                    picture = Picture(isIDR: header.isIDR, isReference: header.referenceIDC != 0, frameNum: header.frameNum,
                                      spsID: header.spsID, marking: slice.marking, slices: [slice])
                }
            case H264.NALType.sequenceParameterSet, H264.NALType.pictureParameterSet:
                guard remember(parameterSet: nal) else { return nil }
                carriesParameterSets = true
            case H264.NALType.partitionA, H264.NALType.partitionB, H264.NALType.partitionC,
                 H264.NALType.sliceExtension, H264.NALType.depthSliceExtension:
                return nil  // data partitioning and SVC/MVC extensions are not modelled
            default:
                continue
            }
        }
        picture?.carriesParameterSets = carriesParameterSets
        return picture
    }

    /// What a slice may reference, or nil if its header uses what the model does not follow:
    /// redundant pictures, long-term references (in list modifications or marking), marking commands
    /// other than "drop this short-term picture".
    private static func slice(_ header: H264.SliceHeader) -> Slice? {
        if let redundant = header.redundantPicCount, redundant != 0 { return nil }
        var marking: [Int]?
        switch header.marking {
        case .idr(_, let longTerm):
            if longTerm { return nil }
        case .adaptive(let operations):
            marking = []
            for operation in operations {
                guard operation.operation == 1, let differenceMinus1 = operation.differenceOfPicNumsMinus1 else { return nil }
                marking!.append(differenceMinus1 + 1)
            }
        case .slidingWindow, nil:
            break
        }
        let kind: SliceKind
        switch header.kind {
        case .b:
            kind = .bidirectional
        case .p, .sp:
            var modifications: [PictureNumberChange] = []
            for change in header.listModifications[0] {
                guard change.idc <= 1 else { return nil }  // 2: a long-term picture
                modifications.append(PictureNumberChange(subtract: change.idc == 0, difference: change.value + 1))
            }
            kind = .predicted(activeCount: header.activeReferences[0], modifications: modifications)
        case .i, .si:
            kind = .intra
        }
        // B-slices are not reordered here, but a long-term modification still means long-term references.
        if header.listModifications.joined().contains(where: { $0.idc > 1 }) { return nil }
        return Slice(kind: kind, marking: marking)
    }
}
