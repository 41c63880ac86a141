/// Every reader in this module that takes untrusted bytes, run on one input: the MP4 index reader
/// (on the bytes as a file, and as a `SparseSource` without media data), the file sniffer, the
/// H.264/HEVC parameter-set parsers, the AAC configuration reader (an esds payload), and the syntax
/// readers of pictures (SEI, H.264 slice headers) on an input read as a record and access units.
///
/// libFuzzer calls it (fuzz/run.sh); each input it found a fault with becomes a regression test that
/// calls it again. Outcomes are thrown away: what counts is that no input crashes, hangs or leaks.
package enum FuzzEntry {
    package static func readAll(_ bytes: [UInt8]) {
        let file = MemorySource(bytes)
        _ = try? FileSniffer.sniff(file, path: "input")
        _ = try? MP4Probe.read(file, path: "input")
        _ = try? MP4Probe.read(SparseSource(stored: bytes), path: "input")
        _ = ParameterSets.h264(bytes)
        _ = ParameterSets.hevc(bytes)
        _ = try? AudioSpecificConfig.read(esds: bytes[...])
        readPictures(bytes)
    }

    /// The `.units` seed form (fuzz/make-seeds.sh): a 16-bit record length, an avcC or hvcC record,
    /// then length-prefixed NAL units of the first pictures.
    static func readPictures(_ bytes: [UInt8]) {
        guard bytes.count >= 2 else { return }
        let recordLength = Int(bytes[0]) << 8 | Int(bytes[1])
        guard bytes.count >= 2 + recordLength else { return }
        let record = Array(bytes[2..<(2 + recordLength)]), units = bytes[(2 + recordLength)...]
        for (codec, sets) in [("h264", ParameterSets.h264(record)), ("hevc", ParameterSets.hevc(record))] {
            _ = StreamColor.seiTexts(codec: codec, parameterSets: sets, firstAccessUnit: units)
        }
        let (lengthSize, sps, pps) = H264.parameterSets(inExtradata: record)
        var sequenceSets: [Int: H264.SequenceParameterSet] = [:], pictureSets: [Int: H264.PictureParameterSet] = [:]
        for nal in sps { if let set = try? H264.SequenceParameterSet(nal: nal) { sequenceSets[set.id] = set } }
        for nal in pps { if let set = try? H264.PictureParameterSet(nal: nal) { pictureSets[set.id] = set } }
        for nal in NALUnits.split(units, lengthSize: lengthSize ?? 4) ?? [] {
            _ = try? H264.SliceHeader(nal: nal, sequenceSets: sequenceSets, pictureSets: pictureSets)
        }
    }
}
