import ClipKitCore
@testable import ClipKitMP4
import ClipKitTestSupport
import Foundation
import Testing

/// The MP4 reader and the sniffer read a `ByteSource`: a file, bytes in memory, or an MP4 stored
/// without its media data (the fuzzer's seeds). Each must read exactly as the file does.
@Suite("byte sources")
struct ByteSourceTests {
    /// Every MP4 the tests have: the samples (audit clips included) and the fixtures.
    static func clips() throws -> [String] {
        let root = Samples.root + "/samples"
        let samples = (FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String } ?? [])
            .filter { $0.hasSuffix(".mp4") }.sorted().map { root + "/" + $0 }
        return samples + (try Fixture.allCases.map { try Fixtures.shared.path($0) })
    }

    static func bytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

    /// The answer, or the reason for falling back.
    static func outcome(_ read: () throws(NotModelled) -> MediaInfo) -> String {
        do { return "\(try read())" } catch { return "fell back: \(error.reason)" }
    }

    @Test("bytes in memory and an MP4 without its media data probe exactly as the file")
    func sameAnswers() throws {
        for path in try Self.clips() {
            let file = Self.outcome { () throws(NotModelled) in try MP4Probe.read(path) }
            let bytes = try Self.bytes(path)
            #expect(Self.outcome { () throws(NotModelled) in try MP4Probe.read(MemorySource(bytes), path: path) } == file, "\(path)")
            let stored = SparseSource.eliding(bytes)
            guard stored != bytes else { continue }  // a cut file is stored as it is
            let sparse = SparseSource(stored: stored)
            #expect(sparse.size == Int64(bytes.count), "\(path)")
            #expect(Self.outcome { () throws(NotModelled) in try MP4Probe.read(sparse, path: path) } == file, "\(path)")
        }
        #expect(try MP4Probe.read(SparseSource(stored: SparseSource.eliding(Self.bytes(Samples.path(Samples.hd1080p)))),
                                  path: Samples.path(Samples.hd1080p)) == MP4Probe.read(Samples.path(Samples.hd1080p)))
    }

    @Test("stored without media data, a clip keeps every byte but most of the mdat payload, in a fraction of the size")
    func sparseReadsBack() throws {
        let bytes = try Self.bytes(Samples.path(Samples.audio720p))
        let stored = SparseSource.eliding(bytes)
        #expect(stored.count * 20 < bytes.count, "\(stored.count) of \(bytes.count) bytes")
        let sparse = SparseSource(stored: stored)
        let mdat = try #require(try MemorySource(bytes).topLevelBoxes().first { $0.type == "mdat" })
        let whole = try sparse.read(at: 0, count: bytes.count)
        #expect(whole[..<Int(mdat.payloadOffset)] == bytes[..<Int(mdat.payloadOffset)])
        #expect(whole[Int(mdat.offset + mdat.size)...] == bytes[Int(mdat.offset + mdat.size)...])
        let kept = Int(mdat.payloadOffset) + SparseSource.keptMediaBytes
        #expect(whole[Int(mdat.payloadOffset)..<kept] == bytes[Int(mdat.payloadOffset)..<kept], "the first picture's start is kept")
        #expect(whole[kept..<Int(mdat.offset + mdat.size)].allSatisfy { $0 == 0 })
        #expect(throws: NotModelled.self) { try sparse.read(at: Int64(bytes.count) - 4, count: 8) }
        // Not a box at all: kept as it is.
        #expect(SparseSource(stored: Array("<?xml".utf8)).size == 5)
    }

    @Test("the sniffer reads bytes in memory as it reads the file, bad inputs included")
    func snifferInMemory() throws {
        let files = try Self.clips() + Fixtures.shared.badInputs().map(\.path)
        for path in files where FileManager.default.isReadableFile(atPath: path) {
            // Not read when empty: Foundation's Data(contentsOf:) leaks a 4 KiB buffer on an empty file.
            let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
                  (size?.intValue ?? 0) > 0, let bytes = try? Self.bytes(path)
            else { continue }
            let fromFile = Result { () throws(MediaProblem) in try FileSniffer.sniff(path) }
            let fromMemory = Result { () throws(MediaProblem) in try FileSniffer.sniff(MemorySource(bytes), path: path) }
            #expect(fromMemory == fromFile, "\(path)")
        }
    }

    /// The fuzzer's seed corpus (fuzz/seeds): every clip above stored without its media data, and
    /// the avcC/hvcC/esds payloads alone for the parameter-set and AAC configuration readers. With CLIPKIT_FUZZ_SEEDS=DIR the
    /// seeds are written there (fuzz/make-seeds.sh); every reader must take each one in its stride.
    @Test("fuzz seeds: small, and read by every reader without a fault")
    func fuzzSeeds() throws {
        var seeds: [String: [UInt8]] = [:]
        for path in try Self.clips() {
            let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
            let bytes = try Self.bytes(path)
            var stored = SparseSource.eliding(bytes)
            // What does not tile into boxes (a cut download, Matroska) is stored as it is: its head will do.
            if stored == bytes { stored = Array(bytes.prefix(16 << 10)) }
            seeds[URL(fileURLWithPath: path).lastPathComponent] = stored
            for record in ["avcC", "hvcC", "esds"] {
                if let payload = Self.firstBox(record, in: stored) { seeds["\(name).\(record)"] = payload }
            }
            // For the slice-header readers: the record, then the first pictures as stored (length-prefixed
            // NAL units), in the form FuzzEntry reads: a 16-bit record length, the record, the access units.
            // Only a slice's header is read, so each NAL unit keeps its first 96 bytes.
            let avcC = Self.firstBox("avcC", in: stored), hvcC = Self.firstBox("hvcC", in: stored)
            if let record = avcC ?? hvcC, record.count < 1 << 16, record.count > 21,
               let pictures = Self.firstVideoSamples(bytes, count: 6) {
                let lengthSize = Int(record[avcC != nil ? 4 : 21] & 3) + 1
                seeds["\(name).units"] = [UInt8(record.count >> 8), UInt8(record.count & 0xFF)] + record
                    + Self.shortened(pictures, lengthSize: lengthSize, keeping: 96)
            }
        }
        #expect(seeds.values.allSatisfy { $0.count <= 64 << 10 }, "\(seeds.mapValues(\.count))")
        for bytes in seeds.values { FuzzEntry.readAll(bytes) }
        if let directory = ProcessInfo.processInfo.environment["CLIPKIT_FUZZ_SEEDS"] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            for (name, bytes) in seeds { try Data(bytes).write(to: URL(fileURLWithPath: directory + "/" + name)) }
        }
    }

    /// The first `count` samples of the video track, concatenated as stored, when the index can be read.
    static func firstVideoSamples(_ file: [UInt8], count: Int) -> [UInt8]? {
        guard let boxes = try? MemorySource(file).topLevelBoxes(), let moov = boxes.first(where: { $0.type == "moov" }),
              let payload = try? MemorySource(file).read(at: moov.payloadOffset, count: moov.payloadSize),
              let movie = try? MovieBox(payload[...], fileSize: Int64(file.count)),
              let track = movie.tracks.first(where: { $0.kind == .video })
        else { return nil }
        let table = track.samples
        var out: [UInt8] = [], sample = 0, stsc = 0
        for (chunk, offset) in table.chunkOffsets.enumerated() where sample < count {
            if stsc + 1 < table.sampleToChunk.count, chunk + 1 == Int(table.sampleToChunk[stsc + 1].firstChunk) { stsc += 1 }
            var position = Int(offset)
            for _ in 0..<table.sampleToChunk[stsc].samplesPerChunk where sample < count && sample < table.sampleCount {
                let size = Int(table.sampleSizes[sample])
                guard position + size <= file.count else { return nil }
                out += file[position..<(position + size)]
                position += size
                sample += 1
            }
        }
        return out.isEmpty ? nil : out
    }

    /// Length-prefixed NAL units with each cut to its first `keeping` bytes (the prefix rewritten).
    static func shortened(_ units: [UInt8], lengthSize: Int, keeping: Int) -> [UInt8] {
        var out: [UInt8] = [], i = 0
        while i + lengthSize <= units.count {
            let length = units[i..<(i + lengthSize)].reduce(0) { $0 << 8 | Int($1) }
            let start = i + lengthSize, kept = min(length, keeping, units.count - start)
            out += (0..<lengthSize).reversed().map { UInt8(truncatingIfNeeded: kept >> (8 * $0)) } + units[start..<(start + kept)]
            i = start + length
        }
        return out
    }

    /// The payload of the first box of `type` anywhere in `bytes` (found by its four letters).
    static func firstBox(_ type: String, in bytes: [UInt8]) -> [UInt8]? {
        let tag = Array(type.utf8)
        guard bytes.count > 8 else { return nil }
        for i in 4..<(bytes.count - 4) where bytes[i..<(i + 4)].elementsEqual(tag) {
            let size = bytes[(i - 4)..<i].reduce(0) { $0 << 8 | Int($1) }
            guard size >= 8, i - 4 + size <= bytes.count else { continue }
            return Array(bytes[(i + 4)..<(i - 4 + size)])
        }
        return nil
    }
}
