import ClipKitCore

/// The single sample description (stsd entry) of a track, for the codecs the fast path reports:
/// H.264 and HEVC video, AAC-LC audio.
enum SampleEntry {
    case video(VideoEntry)
    case audio(AudioEntry)

    struct VideoEntry {
        /// FFmpeg's codec name: "h264" or "hevc".
        var codec: String
        /// Coded size from the sample entry, which is what FFmpeg reports without decoding.
        var width: Int
        var height: Int
        var parameterSets: ParameterSets
        /// What a `colr` box says (nclx/nclc), as FFmpeg's mov demuxer reads it into codecpar.
        var containerColor: ColorTags
    }

    struct AudioEntry {
        var sampleRate: Int
        var channels: Int
    }

    init(_ stsd: ArraySlice<UInt8>, kind: TrackBox.Kind) throws(NotModelled) {
        var reader = ByteReader(stsd)
        _ = try reader.version()
        // Several descriptions let the codec change mid-track; FFmpeg handles that, not this.
        guard try reader.u32() == 1 else { throw NotModelled("stsd with several entries") }
        let entries = try Box.children(of: try reader.bytes(reader.remaining))
        guard entries.count == 1 else { throw NotModelled("stsd entry count mismatch") }
        let entry = entries[0]
        var fields = ByteReader(entry.payload)
        try fields.skip(6)  // reserved
        guard try fields.u16() == 1 else { throw NotModelled("unusual data reference index") }
        switch kind {
        case .video: self = .video(try Self.video(entry.type, &fields))
        case .audio: self = .audio(try Self.audio(entry.type, &fields))
        }
    }

    private static func video(_ format: String, _ fields: inout ByteReader) throws(NotModelled) -> VideoEntry {
        let codec: String
        switch format {
        case "avc1", "avc3": codec = "h264"
        case "hvc1", "hev1": codec = "hevc"
        default: throw NotModelled("video codec '\(format)'")
        }
        try fields.skip(16)  // pre_defined, reserved
        let width = Int(try fields.u16()), height = Int(try fields.u16())
        try fields.skip(4 + 4 + 4 + 2 + 32)  // resolutions, reserved, frame count, compressor name
        // FFmpeg treats other depths as palettised or grey formats.
        guard try fields.u16() == 0x18 else { throw NotModelled("unusual colour depth") }
        try fields.skip(2)
        // Without a size FFmpeg would have to decode to find one.
        guard width > 0, height > 0 else { throw NotModelled("no coded size") }

        // pasp only changes the stream's (not the codec's) aspect ratio, clap is not applied by FFmpeg;
        // both are refused anyway unless trivial, to stay on the ordinary case.
        let boxes = try Box.children(of: try fields.bytes(fields.remaining))
            .onlyContaining(["avcC", "hvcC", "pasp", "colr", "btrt", "fiel"], in: format)
        if let pasp = try boxes.single("pasp") {
            var ratio = ByteReader(pasp.payload)
            let h = try ratio.u32(), v = try ratio.u32()
            guard h == v else { throw NotModelled("non-square pixels") }
        }
        let containerColor = try colourDescription(boxes)
        let configuration = codec == "h264" ? "avcC" : "hvcC"
        guard let record = try boxes.single(configuration) else { throw NotModelled("no '\(configuration)'") }
        let sets = codec == "h264" ? ParameterSets.h264(Array(record.payload)) : ParameterSets.hevc(Array(record.payload))
        guard let sets else { throw NotModelled("unreadable parameter sets") }
        return VideoEntry(codec: codec, width: width, height: height, parameterSets: sets, containerColor: containerColor)
    }

    /// The code points of an nclx or nclc `colr` box (mov_read_colr): primaries, transfer and matrix as
    /// 16-bit numbers, then for nclx the full-range flag. ICC profiles (prof) carry nothing probe reports.
    private static func colourDescription(_ boxes: [Box]) throws(NotModelled) -> ColorTags {
        var described: [ColorTags] = []
        for colr in boxes where colr.type == "colr" {
            var colour = ByteReader(colr.payload)
            let kind = try colour.fourCC()
            guard kind == "nclx" || kind == "nclc" else { continue }
            var tags = ColorTags(primaries: Int(try colour.u16()), transfer: Int(try colour.u16()))
            tags.matrix = Int(try colour.u16())
            if kind == "nclx" { tags.fullRange = try colour.u8() & 0x80 != 0 }
            described.append(tags)
        }
        // With several, FFmpeg keeps the last one read; not a case worth modelling.
        guard described.count <= 1 else { throw NotModelled("several colour descriptions") }
        return described.first ?? ColorTags()
    }

    private static func audio(_ format: String, _ fields: inout ByteReader) throws(NotModelled) -> AudioEntry {
        guard format == "mp4a" else { throw NotModelled("audio codec '\(format)'") }
        // QuickTime sound description versions 1 and 2 carry extra fields FFmpeg reads differently.
        guard try fields.u16() == 0 else { throw NotModelled("QuickTime sound description") }
        try fields.skip(2 + 4 + 2 + 2 + 2 + 2 + 4)  // revision, vendor, channels, size, id, packet size, rate
        let boxes = try Box.children(of: try fields.bytes(fields.remaining)).onlyContaining(["esds", "btrt"], in: format)
        guard let esds = try boxes.single("esds") else { throw NotModelled("mp4a without esds") }
        return try AudioSpecificConfig.read(esds: esds.payload)
    }
}

/// The AAC facts FFmpeg takes from an esds box: its MPEG-4 AudioSpecificConfig decides the sample
/// rate and channel count, overriding the sample entry.
enum AudioSpecificConfig {
    static let sampleRates = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350]

    static func read(esds payload: ArraySlice<UInt8>) throws(NotModelled) -> SampleEntry.AudioEntry {
        var reader = ByteReader(payload)
        _ = try reader.version()
        guard try reader.u8() == 0x03 else { throw NotModelled("esds without ES descriptor") }
        _ = try descriptorLength(&reader)
        try reader.skip(2)  // ES_ID
        let flags = try reader.u8()
        if flags & 0x80 != 0 { try reader.skip(2) }
        if flags & 0x40 != 0 { try reader.skip(Int(try reader.u8())) }
        if flags & 0x20 != 0 { try reader.skip(2) }
        guard try reader.u8() == 0x04 else { throw NotModelled("esds without decoder config") }
        _ = try descriptorLength(&reader)
        // 0x40: MPEG-4 audio. The MPEG-2 AAC object types are rare enough to leave to FFmpeg.
        guard try reader.u8() == 0x40 else { throw NotModelled("esds object type is not MPEG-4 audio") }
        try reader.skip(1 + 3 + 4 + 4)  // stream type, buffer size, max and average bit rate
        guard try reader.u8() == 0x05 else { throw NotModelled("esds without AudioSpecificConfig") }
        let length = try descriptorLength(&reader)
        return try parse(Array(try reader.bytes(length)))
    }

    /// Accepts AAC-LC with an indexed sample rate and a channel configuration of 1–6, either alone
    /// (2 bytes) or followed by the explicit "no SBR" sync extension FFmpeg's own encoder writes.
    /// Any other layout (SBR/PS signalling, escapes, program config elements) is FFmpeg's to read.
    static func parse(_ config: [UInt8]) throws(NotModelled) -> SampleEntry.AudioEntry {
        var bits = BitReader(config)
        func read(_ count: Int) -> Int? { try? bits.bits(count) }
        guard let objectType = read(5), let rateIndex = read(4), let channelConfig = read(4), let gaSpecific = read(3)
        else { throw NotModelled("short AudioSpecificConfig") }
        guard objectType == 2 else { throw NotModelled("AAC object type \(objectType)") }
        guard rateIndex < sampleRates.count else { throw NotModelled("explicit AAC sample rate") }
        guard (1...6).contains(channelConfig) else { throw NotModelled("AAC channel configuration \(channelConfig)") }
        guard gaSpecific == 0 else { throw NotModelled("unusual GASpecificConfig") }
        switch config.count {
        case 2:
            break
        case 5:
            // sync extension 0x2b7, extension object type 5 (SBR), sbrPresentFlag 0, then padding.
            guard read(11) == 0x2b7, read(5) == 5, read(1) == 0, read(7) == 0 else {
                throw NotModelled("unusual AudioSpecificConfig extension")
            }
        default:
            throw NotModelled("AudioSpecificConfig of \(config.count) bytes")
        }
        return SampleEntry.AudioEntry(sampleRate: sampleRates[rateIndex], channels: channelConfig)
    }

    /// An MPEG-4 descriptor length: up to four bytes of 7 bits each.
    private static func descriptorLength(_ reader: inout ByteReader) throws(NotModelled) -> Int {
        var length = 0
        for _ in 0..<4 {
            let byte = try reader.u8()
            length = length << 7 | Int(byte & 0x7f)
            if byte & 0x80 == 0 { return length }
        }
        return length
    }
}
