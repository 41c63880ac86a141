/// A track's sample tables (stts, ctts, stss, stsc, stsz, stco/co64), validated against the checks
/// FFmpeg's mov demuxer makes, so that where it would warn, repair or drop samples we step aside.
struct SampleTable {
    struct TimeToSample { var count: UInt32; var duration: UInt32 }
    struct SampleToChunk { var firstChunk: UInt32; var samplesPerChunk: UInt32 }

    var timeToSample: [TimeToSample]
    /// Composition offset per sample (ctts expanded one to one), or nil without a ctts.
    var compositionOffsets: [Int64]?
    /// 1-based sync sample numbers, or nil without an stss (every sample is a key frame).
    var syncSamples: [UInt32]?
    var sampleToChunk: [SampleToChunk]
    var sampleSizes: [UInt32]
    var chunkOffsets: [UInt64]

    var sampleCount: Int { sampleSizes.count }

    /// More samples than any clip ClipKit is for (39 hours of 30 fps video, 24 hours of 48 kHz AAC):
    /// the index is expanded per sample, so a claim beyond this is left to FFmpeg.
    static let maxSamples = 1 << 22

    /// - Parameter fileSize: the samples must fit in the file; checked before anything is expanded.
    init(_ boxes: [Box], kind: TrackBox.Kind, fileSize: Int64) throws(NotModelled) {
        sampleSizes = try Self.readSizes(try boxes.required("stsz").payload, fileSize: fileSize)
        guard !sampleSizes.isEmpty else { throw NotModelled("track without samples") }
        timeToSample = try Self.readTimeToSample(try boxes.required("stts").payload, sampleCount: sampleSizes.count)
        sampleToChunk = try Self.readSampleToChunk(try boxes.required("stsc").payload)
        let stco = try boxes.single("stco"), co64 = try boxes.single("co64")
        guard (stco == nil) != (co64 == nil) else { throw NotModelled("need exactly one of stco/co64") }
        chunkOffsets = try Self.readChunkOffsets(stco?.payload ?? co64!.payload, wide: co64 != nil)
        compositionOffsets = try boxes.single("ctts").map { box throws(NotModelled) in
            try Self.readCompositionOffsets(box.payload, sampleCount: sampleSizes.count)
        }
        syncSamples = try boxes.single("stss").map { box throws(NotModelled) in try Self.readSyncSamples(box.payload) }
        guard let last = sampleToChunk.last, last.firstChunk <= chunkOffsets.count else {
            throw NotModelled("stsc and stco disagree")
        }
        // The old chunk-based audio demuxing path (stts of one entry of duration 1) is not modelled.
        if kind == .audio, timeToSample.count == 1, timeToSample[0].duration == 1 {
            throw NotModelled("uncompressed-style audio index")
        }
    }

    private static func readSizes(_ payload: ArraySlice<UInt8>, fileSize: Int64) throws(NotModelled) -> [UInt32] {
        var reader = ByteReader(payload)
        _ = try reader.version()
        let constant = try reader.u32(), count = try reader.u32()
        guard count <= maxSamples else { throw NotModelled("stsz: \(count) samples, more than \(maxSamples)") }
        // FFmpeg refuses samples over 0x3FFFFFFF bytes.
        if constant != 0 {
            guard constant <= 0x3FFF_FFFF else { throw NotModelled("unusual stsz") }
            // One size for all: only the file's length bounds how many there can be.
            guard UInt64(count) * UInt64(constant) <= UInt64(fileSize) else {
                throw NotModelled("stsz: \(count) samples of \(constant) bytes cannot fit in a file of \(fileSize) bytes")
            }
            return Array(repeating: constant, count: Int(count))
        }
        guard UInt64(count) * 4 <= UInt64(reader.remaining) else { throw NotModelled("stsz shorter than its count") }
        var sizes: [UInt32] = []
        sizes.reserveCapacity(Int(count))
        for _ in 0..<count {
            let size = try reader.u32()
            guard size <= 0x3FFF_FFFF else { throw NotModelled("sample too large") }
            sizes.append(size)
        }
        return sizes
    }

    private static func readTimeToSample(_ payload: ArraySlice<UInt8>, sampleCount: Int) throws(NotModelled) -> [TimeToSample] {
        var reader = ByteReader(payload)
        _ = try reader.version()
        let count = try reader.u32()
        guard count > 0, UInt64(count) * 8 <= UInt64(reader.remaining) else { throw NotModelled("unusual stts") }
        var entries: [TimeToSample] = []
        var total: UInt64 = 0, duration: UInt64 = 0
        for i in 0..<count {
            let entry = TimeToSample(count: try reader.u32(), duration: try reader.u32())
            // Zero or negative (as FFmpeg's int reads them) durations make timestamps repeat or go back.
            guard entry.count > 0, entry.duration > 0, entry.duration <= Int32.max else { throw NotModelled("unusual stts entry") }
            // FFmpeg shortens a last single sample that is over ten times the average.
            if i + 1 == count, i > 0, entry.count == 1, total + 1 > 100,
               UInt64(entry.duration) / 10 > (duration + UInt64(entry.duration)) / (total + 1) {
                throw NotModelled("stts ends with an outlier duration")
            }
            total += UInt64(entry.count)
            duration += UInt64(entry.count) * UInt64(entry.duration)
            // Checked as it grows: each entry adds under 2^63, so the totals cannot overflow first.
            guard total <= UInt64(sampleCount), duration <= UInt64(Int64.max / 2) else { throw NotModelled("stts does not cover stsz") }
            entries.append(entry)
        }
        guard total == UInt64(sampleCount), duration <= UInt64(Int64.max / 2) else { throw NotModelled("stts does not cover stsz") }
        return entries
    }

    private static func readSampleToChunk(_ payload: ArraySlice<UInt8>) throws(NotModelled) -> [SampleToChunk] {
        var reader = ByteReader(payload)
        _ = try reader.version()
        let count = try reader.u32()
        guard count > 0, UInt64(count) * 12 <= UInt64(reader.remaining) else { throw NotModelled("unusual stsc") }
        var entries: [SampleToChunk] = []
        for i in 0..<count {
            let entry = SampleToChunk(firstChunk: try reader.u32(), samplesPerChunk: try reader.u32())
            let descriptionIndex = try reader.u32()
            // FFmpeg rewrites entries that are out of order, empty or name a missing description.
            let inOrder = i == 0 ? entry.firstChunk == 1 : entry.firstChunk > entries[entries.count - 1].firstChunk
            guard inOrder, entry.samplesPerChunk > 0, descriptionIndex == 1
            else { throw NotModelled("unusual stsc entry") }
            entries.append(entry)
        }
        return entries
    }

    private static func readChunkOffsets(_ payload: ArraySlice<UInt8>, wide: Bool) throws(NotModelled) -> [UInt64] {
        var reader = ByteReader(payload)
        _ = try reader.version()
        let count = try reader.u32()
        guard count > 0, UInt64(count) * (wide ? 8 : 4) <= UInt64(reader.remaining) else { throw NotModelled("unusual chunk offsets") }
        var offsets: [UInt64] = []
        offsets.reserveCapacity(Int(count))
        for _ in 0..<count { offsets.append(wide ? try reader.u64() : UInt64(try reader.u32())) }
        guard offsets.allSatisfy({ $0 <= UInt64(Int64.max / 2) }) else { throw NotModelled("chunk offset out of range") }
        return offsets
    }

    private static func readCompositionOffsets(_ payload: ArraySlice<UInt8>, sampleCount: Int) throws(NotModelled) -> [Int64] {
        var reader = ByteReader(payload)
        _ = try reader.version()
        let count = try reader.u32()
        guard UInt64(count) * 8 <= UInt64(reader.remaining) else { throw NotModelled("ctts shorter than its count") }
        var offsets: [Int64] = []
        offsets.reserveCapacity(sampleCount)
        for _ in 0..<count {
            let samples = try reader.u32(), offset = try reader.i32()
            // Negative offsets make FFmpeg shift every timestamp (dts_shift); huge ones it discards.
            guard samples > 0, samples <= Int32.max, offset >= 0, offset < 1 << 28,
                  offsets.count + Int(samples) <= sampleCount
            else { throw NotModelled("unusual ctts entry") }
            offsets.append(contentsOf: repeatElement(Int64(offset), count: Int(samples)))
        }
        guard offsets.count == sampleCount else { throw NotModelled("ctts does not cover every sample") }
        return offsets
    }

    private static func readSyncSamples(_ payload: ArraySlice<UInt8>) throws(NotModelled) -> [UInt32] {
        var reader = ByteReader(payload)
        _ = try reader.version()
        let count = try reader.u32()
        // An empty stss means "no key frame information", which FFmpeg handles by parsing packets.
        guard count > 0, UInt64(count) * 4 <= UInt64(reader.remaining) else { throw NotModelled("unusual stss") }
        var samples: [UInt32] = []
        for _ in 0..<count {
            let sample = try reader.u32()
            guard sample > (samples.last ?? 0) else { throw NotModelled("stss out of order") }
            samples.append(sample)
        }
        return samples
    }
}
