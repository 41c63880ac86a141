/// Every reader in this module that takes untrusted bytes, run on one input: the MP4 index reader
/// (on the bytes as a file, and as a `SparseSource` without media data), the file sniffer, the
/// H.264/HEVC parameter-set parsers and the AAC configuration reader (an esds payload).
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
    }
}
