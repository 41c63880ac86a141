/// The parts of a `moov` box the probe reports on, read the way FFmpeg's mov demuxer (5.1) reads
/// them. Only the shapes ordinary MP4 writers produce are accepted; anything else throws
/// `NotModelled` so that FFmpeg decides.
struct MovieBox {
    /// mvhd time scale (ticks per second) and duration in those ticks.
    var timescale: UInt32
    var duration: UInt64
    var tracks: [TrackBox]
    /// The writing application FFmpeg reports as the `encoder` tag (©too, ©swr or ©enc in moov/udta).
    var encoderTag: String?

    /// - Parameter fileSize: the whole file's, which bounds how many samples the index can claim.
    init(_ payload: ArraySlice<UInt8>, fileSize: Int64) throws(NotModelled) {
        // mvex would make it fragmented; meta/udta only carry tags. Anything else (cmov, a second
        // mvhd, chapter trefs, …) changes FFmpeg's reading in ways not modelled here.
        let boxes = try Box.children(of: payload).onlyContaining(["mvhd", "trak", "udta", "meta", "iods", "free", "skip"], in: "moov")
        var mvhd = ByteReader(try boxes.required("mvhd").payload)
        let version = try mvhd.version()
        try mvhd.skip(version == 1 ? 16 : 8)  // creation and modification times
        timescale = try mvhd.u32()
        duration = version == 1 ? try mvhd.u64() : UInt64(try mvhd.u32())
        guard version <= 1, timescale > 0 else { throw NotModelled("unusual mvhd") }
        // The format duration comes from mvhd; a zero or "unknown" (all ones) one FFmpeg treats specially.
        guard duration > 0, duration != (version == 1 ? UInt64.max : UInt64(UInt32.max)) else {
            throw NotModelled("mvhd has no duration")
        }
        try mvhd.skip(4 + 2 + 10)  // rate, volume, reserved
        // FFmpeg multiplies each track's matrix by the movie's; only the identity leaves them as written.
        guard try TrackBox.readMatrix(&mvhd) == TrackBox.identityMatrix else { throw NotModelled("mvhd has a display matrix") }
        for box in boxes where box.type == "udta" || box.type == "meta" {
            // Cover art becomes an extra (attached picture) video stream in FFmpeg. A byte search may
            // see one where there is none; that only costs a fallback.
            guard !Self.contains(box.payload, "covr"), !Self.contains(box.payload, "artwork") else {
                throw NotModelled("cover art")
            }
        }
        tracks = try boxes.filter { $0.type == "trak" }.map { box throws(NotModelled) in try TrackBox(box.payload, fileSize: fileSize) }
        encoderTag = try Self.encoderTag(boxes)
    }

    /// The four-character codes FFmpeg's mov demuxer reads into the `encoder` tag.
    static let encoderAtoms: Set<String> = ["©too", "©swr", "©enc"]

    /// The encoder tag in the two shapes writers use: an iTunes-style list (udta/meta/ilst/©too/data,
    /// what FFmpeg's mp4 muxer writes) or a QuickTime string (udta/©swr: length, language, text). Any
    /// other place or shape, or more than one, is left to FFmpeg; so is text that is not plain ASCII
    /// (FFmpeg may read it as Mac Roman).
    private static func encoderTag(_ moov: [Box]) throws(NotModelled) -> String? {
        let holders = moov.filter { $0.type == "udta" || $0.type == "meta" }
        let mentions = holders.reduce(0) { $0 + encoderMentions(in: $1.payload) }
        guard mentions > 0 else { return nil }
        guard mentions == 1, holders.count == 1, holders[0].type == "udta" else { throw NotModelled("encoder tag in an unusual place") }
        let udta = try Box.children(of: holders[0].payload)
        var text: ArraySlice<UInt8>
        if let item = udta.first(where: { encoderAtoms.contains($0.type) }) {
            var string = ByteReader(item.payload)
            let length = Int(try string.u16())
            try string.skip(2)  // language
            text = try string.bytes(length)
        } else {
            let meta = try udta.required("meta")
            var header = ByteReader(meta.payload)
            guard try header.version() == 0 else { throw NotModelled("unusual meta box") }
            let list = try Box.children(of: try header.bytes(header.remaining)).required("ilst")
            guard let item = try Box.children(of: list.payload).first(where: { encoderAtoms.contains($0.type) }),
                  let data = try Box.children(of: item.payload).first, data.type == "data"
            else { throw NotModelled("unusual encoder tag") }
            var fields = ByteReader(data.payload)
            guard try fields.u32() == 1 else { throw NotModelled("encoder tag that is not UTF-8 text") }  // well-known type 1
            try fields.skip(4)  // locale
            text = try fields.bytes(fields.remaining)
        }
        guard !text.isEmpty, text.allSatisfy({ $0 >= 0x20 && $0 < 0x7f }) else { throw NotModelled("encoder tag that is not plain ASCII") }
        return String(decoding: text, as: UTF8.self)
    }

    /// How often an encoder atom's type appears in the bytes (a byte search: a false hit only costs a fallback).
    static func encoderMentions(in bytes: ArraySlice<UInt8>) -> Int {
        encoderAtoms.reduce(0) { $0 + count(of: $1.unicodeScalars.map { UInt8($0.value) }, in: bytes) }
    }

    private static func count(of needle: [UInt8], in bytes: ArraySlice<UInt8>) -> Int {
        guard bytes.count >= needle.count else { return 0 }
        var found = 0, i = bytes.startIndex
        while i + needle.count <= bytes.endIndex {
            if bytes[i..<(i + needle.count)].elementsEqual(needle) { found += 1 }
            i += 1
        }
        return found
    }

    private static func contains(_ bytes: ArraySlice<UInt8>, _ tag: String) -> Bool {
        let needle = Array(tag.utf8)
        guard bytes.count >= needle.count else { return false }
        var i = bytes.startIndex
        while i + needle.count <= bytes.endIndex {
            if bytes[i..<(i + needle.count)].elementsEqual(needle) { return true }
            i += 1
        }
        return false
    }
}

/// One `trak`: its kind, display matrix, media clock, edit list, sample entry and sample tables.
struct TrackBox {
    enum Kind { case video, audio }

    /// One elst entry: where in the media it starts (-1: an empty edit), for how long (in the movie
    /// time scale), at what rate (16.16 fixed point).
    struct Edit {
        var mediaTime: Int64
        var duration: UInt64
        var rate: Int32
    }

    static let identityMatrix: [Int32] = [0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x4000_0000]

    var kind: Kind
    /// tkhd matrix, row by row: a b u / c d v / x y w.
    var matrix: [Int32]
    /// mdhd time scale and duration.
    var timescale: UInt32
    var mediaDuration: UInt64
    /// nil without an edts/elst.
    var edits: [Edit]?
    var sampleEntry: SampleEntry
    var samples: SampleTable

    init(_ payload: ArraySlice<UInt8>, fileSize: Int64) throws(NotModelled) {
        // tref links tracks (chapters, timecode, hints): FFmpeg then treats this track differently.
        let boxes = try Box.children(of: payload).onlyContaining(["tkhd", "mdia", "edts", "udta", "meta", "free", "skip"], in: "trak")

        // Where FFmpeg files a track's own encoder tag is not modelled.
        guard !boxes.contains(where: { ($0.type == "udta" || $0.type == "meta") && MovieBox.encoderMentions(in: $0.payload) > 0 }) else {
            throw NotModelled("encoder tag on a track")
        }
        var tkhd = ByteReader(try boxes.required("tkhd").payload)
        let tkhdVersion = try tkhd.version()
        guard tkhdVersion <= 1 else { throw NotModelled("unusual tkhd") }
        try tkhd.skip(tkhdVersion == 1 ? 32 : 20)  // times, track id, reserved, duration
        try tkhd.skip(8 + 2 + 2 + 2 + 2)  // reserved, layer, alternate group, volume, reserved
        matrix = try Self.readMatrix(&tkhd)

        if let edts = try boxes.single("edts") {
            let elst = try Box.children(of: edts.payload).onlyContaining(["elst"], in: "edts").required("elst")
            edits = try Self.readEdits(elst.payload)
        }

        let mdia = try Box.children(of: try boxes.required("mdia").payload)
            .onlyContaining(["mdhd", "hdlr", "minf", "udta", "free", "skip"], in: "mdia")
        // FFmpeg takes the stream duration from mdhd and lowers it from stts: mdhd must come first.
        guard let mdhdIndex = mdia.firstIndex(where: { $0.type == "mdhd" }),
              let minfIndex = mdia.firstIndex(where: { $0.type == "minf" }), mdhdIndex < minfIndex,
              let hdlrIndex = mdia.firstIndex(where: { $0.type == "hdlr" }), hdlrIndex < minfIndex
        else { throw NotModelled("mdia boxes missing or out of order") }
        var mdhd = ByteReader(try mdia.required("mdhd").payload)
        let mdhdVersion = try mdhd.version()
        guard mdhdVersion <= 1 else { throw NotModelled("unusual mdhd") }
        try mdhd.skip(mdhdVersion == 1 ? 16 : 8)
        timescale = try mdhd.u32()
        mediaDuration = mdhdVersion == 1 ? try mdhd.u64() : UInt64(try mdhd.u32())
        guard timescale > 0, timescale <= Int32.max else { throw NotModelled("unusual media time scale") }
        guard mediaDuration > 0, mediaDuration != (mdhdVersion == 1 ? UInt64.max : UInt64(UInt32.max)),
              mediaDuration <= UInt64(Int64.max)
        else { throw NotModelled("mdhd has no duration") }

        var hdlr = ByteReader(try mdia.required("hdlr").payload)
        try hdlr.skip(8)  // version, flags, pre_defined
        switch try hdlr.fourCC() {
        case "vide": kind = .video
        case "soun": kind = .audio
        case let other: throw NotModelled("track with handler '\(other)'")
        }

        let minf = try Box.children(of: try mdia.required("minf").payload)
            .onlyContaining(["vmhd", "smhd", "dinf", "stbl", "free", "skip"], in: "minf")
        try Self.requireSelfContained(try minf.required("dinf").payload)
        let stbl = try minf.required("stbl")
        // stps, sdtp-free layouts, cslg (composition shifts) and stz2 are not modelled; sgpd/sbgp are
        // accepted for audio only (AAC pre-roll), since on video they can mark extra key frames.
        var known: Set<String> = ["stsd", "stts", "ctts", "stss", "stsc", "stsz", "stco", "co64", "sdtp", "free", "skip"]
        if kind == .audio { known.formUnion(["sgpd", "sbgp"]) }
        let tables = try Box.children(of: stbl.payload).onlyContaining(known, in: "stbl")
        sampleEntry = try SampleEntry(try tables.required("stsd").payload, kind: kind)
        samples = try SampleTable(tables, kind: kind, fileSize: fileSize)
    }

    /// The nine 32-bit entries of a display matrix.
    static func readMatrix(_ reader: inout ByteReader) throws(NotModelled) -> [Int32] {
        var matrix: [Int32] = []
        for _ in 0..<9 { matrix.append(try reader.i32()) }
        return matrix
    }

    private static func readEdits(_ payload: ArraySlice<UInt8>) throws(NotModelled) -> [Edit] {
        var elst = ByteReader(payload)
        let version = try elst.version()
        guard version <= 1 else { throw NotModelled("unusual elst") }
        let count = try elst.u32()
        guard UInt64(count) * (version == 1 ? 20 : 12) == UInt64(elst.remaining) else {
            throw NotModelled("elst size does not match its entry count")
        }
        var edits: [Edit] = []
        for _ in 0..<count {
            let duration = version == 1 ? try elst.u64() : UInt64(try elst.u32())
            let time = version == 1 ? Int64(bitPattern: try elst.u64()) : Int64(try elst.i32())
            edits.append(Edit(mediaTime: time, duration: duration, rate: try elst.i32()))
        }
        return edits
    }

    /// Samples must be in this file: a dref naming another file makes FFmpeg open that one.
    private static func requireSelfContained(_ dinf: ArraySlice<UInt8>) throws(NotModelled) {
        var dref = ByteReader(try Box.children(of: dinf).onlyContaining(["dref"], in: "dinf").required("dref").payload)
        _ = try dref.version()
        guard try dref.u32() == 1 else { throw NotModelled("dref with several entries") }
        let entries = try Box.children(of: try dref.bytes(dref.remaining))
        guard entries.count == 1, entries[0].type == "url " || entries[0].type == "urn " else {
            throw NotModelled("unusual dref")
        }
        var entry = ByteReader(entries[0].payload)
        try entry.skip(1)
        let flags = (UInt32(try entry.u8()) << 16) | UInt32(try entry.u16())
        guard flags & 1 == 1 else { throw NotModelled("samples in another file") }
    }
}
