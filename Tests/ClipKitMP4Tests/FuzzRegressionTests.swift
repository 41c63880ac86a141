import ClipKitCore
@testable import ClipKitMP4
import ClipKitTestSupport
import Foundation
import Testing

/// Inputs that made a reader of untrusted bytes crash, hang or blow up its memory — found by the
/// fuzzer (fuzz/run.sh) or by reading its code — each read again by every reader (FuzzEntry), and by
/// the one it broke, which must now refuse it cleanly.
@Suite("fuzz regressions")
struct FuzzRegressionTests {
    /// A few hundred bytes of index claiming 2^26 samples of one byte in one chunk: the sample tables
    /// expanded to gigabytes (sizes, composition offsets, index entries) before anything checked that
    /// 64 MiB of samples cannot lie in a file of a few hundred kilobytes. Now a count beyond what any
    /// clip has, or more constant-size samples than the file holds, is left to FFmpeg at once.
    @Test("an index claiming more samples than its file can hold is refused before it is expanded",
          arguments: [(UInt32(1) << 26, "stsz: 67108864 samples, more than 4194304"),
                      (UInt32(1) << 20, "stsz: 1048576 samples of 1 bytes cannot fit in a file of ")])
    func sampleCountBomb(_ count: UInt32, _ reason: String) throws {
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try Fixtures.shared.path(.indexAtEnd))))
        var bomb = original
        let stbl = ["moov", "trak", "mdia", "minf", "stbl"]
        bomb = BoxEditor.replacing(stbl + ["stsz"], in: bomb, with: BoxEditor.fullBox([1, count]))
        bomb = BoxEditor.replacing(stbl + ["stts"], in: bomb, with: BoxEditor.fullBox([1, count, 1]))
        bomb = BoxEditor.replacing(stbl + ["stsc"], in: bomb, with: BoxEditor.fullBox([1, 1, count, 1]))
        bomb = BoxEditor.replacing(stbl + ["ctts"], in: bomb, with: BoxEditor.fullBox([1, count, 0]))
        #expect(bomb.count < original.count)
        #expect {
            _ = try MP4Probe.read(MemorySource(bomb), path: "bomb.mp4")
        } throws: { error in
            (error as? NotModelled)?.reason.hasPrefix(reason) == true
        }
        FuzzEntry.readAll(bomb)
        FuzzEntry.readAll(SparseSource.eliding(bomb))
    }

    static let stbl = ["moov", "trak", "mdia", "minf", "stbl"]

    static func indexAtEnd() throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: try Fixtures.shared.path(.indexAtEnd))))
    }

    /// Expects the reader to step aside with `reason`, and every reader to take the input in its stride.
    static func expectRefused(_ source: some ByteSource, _ reason: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(sourceLocation: sourceLocation) {
            _ = try MP4Probe.read(source, path: "input.mp4")
        } throws: { error in
            (error as? NotModelled)?.reason == reason
        }
    }

    /// Three stts entries of 2^32 − 1 samples lasting 2^31 − 1 ticks each: their total overflowed a
    /// UInt64 (a trap) before it was compared with the sample count.
    @Test("time-to-sample entries whose total overflows are refused, not a trap")
    func timeToSampleOverflow() throws {
        let entry: [UInt32] = [0xFFFF_FFFF, 0x7FFF_FFFF]
        let input = BoxEditor.replacing(Self.stbl + ["stts"], in: try Self.indexAtEnd(),
                                        with: BoxEditor.fullBox([3] + entry + entry + entry))
        Self.expectRefused(MemorySource(input), "stts does not cover stsz")
        FuzzEntry.readAll(input)
    }

    /// A 64-bit edit starting 2^62 ticks into the media and lasting 2^62 ticks (movie and media on the
    /// same 1 kHz clock): its end overflowed Int64 (a trap).
    @Test("an edit list ending past the end of time is refused, not a trap")
    func editEndOverflow() throws {
        var input = try Self.indexAtEnd()
        input = BoxEditor.patching(["moov", "mvhd"], in: input) { BoxEditor.put(1000, at: 12, in: &$0) }  // movie time scale
        input = BoxEditor.patching(["moov", "trak", "mdia", "mdhd"], in: input) { BoxEditor.put(1000, at: 12, in: &$0) }
        let quarter: [UInt32] = [1 << 30, 0]  // 2^62 as two big-endian words
        input = BoxEditor.replacing(["moov", "trak", "edts", "elst"], in: input,
                                    with: [1, 0, 0, 0] + ([1] + quarter + quarter + [0x0001_0000]).flatMap(BoxEditor.be32))
        Self.expectRefused(MemorySource(input), "edit list reaches past the end of time")
        FuzzEntry.readAll(input)
    }

    /// 2^22 samples of 256 KiB (1 TiB, which a sparse file on disk holds in no space at all) over one
    /// tick of a 2^20 Hz media clock: the bit rate, 2^63 bits per second, trapped converting to Int64.
    @Test("a bit rate beyond Int64 is refused, not a trap")
    func bitRateOverflow() throws {
        let file = try Self.indexAtEnd()
        let ftyp = BoxEditor.box("ftyp", BoxEditor.payload(["ftyp"], in: file))
        let count: UInt32 = 1 << 22, size: UInt32 = 1 << 18
        var moov = BoxEditor.box("moov", BoxEditor.payload(["moov"], in: file))
        let table = Array(Self.stbl.dropFirst())
        moov = BoxEditor.replacing(["moov"] + table + ["stsz"], in: moov, with: BoxEditor.fullBox([size, count]))
        moov = BoxEditor.replacing(["moov"] + table + ["stts"], in: moov, with: BoxEditor.fullBox([1, count, 1]))
        moov = BoxEditor.replacing(["moov"] + table + ["stsc"], in: moov, with: BoxEditor.fullBox([1, 1, count, 1]))
        moov = BoxEditor.replacing(["moov"] + table + ["ctts"], in: moov, with: BoxEditor.fullBox([1, count, 0]))
        moov = BoxEditor.replacing(["moov"] + table + ["stco"], in: moov, with: BoxEditor.fullBox([1, UInt32(ftyp.count + 16)]))
        moov = BoxEditor.patching(["moov", "trak", "mdia", "mdhd"], in: moov) {
            BoxEditor.put(1 << 20, at: 12, in: &$0)
            BoxEditor.put(1, at: 16, in: &$0)
        }
        // The media data: a 64-bit mdat header standing for 1 TiB, stored with only the start of its payload.
        let mdatSize = (UInt64(count) * UInt64(size) + 16)
        let mdat = BoxEditor.be32(1) + Array("mdat".utf8) + BoxEditor.be32(UInt32(mdatSize >> 32)) + BoxEditor.be32(UInt32(mdatSize & 0xFFFF_FFFF))
            + [UInt8](repeating: 0, count: SparseSource.keptMediaBytes)
        let stored = ftyp + mdat + moov
        Self.expectRefused(SparseSource(stored: stored), "bit rate overflows")
        FuzzEntry.readAll(stored)
    }
}
