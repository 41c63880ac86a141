/// What FFmpeg's mov demuxer (5.1) makes of one track's sample tables, computed the same way:
/// the index it builds (mov_build_index), the bit rate it derives there, and what applying the edit
/// list (mov_fix_index) does to the stream duration and to which samples are shown.
struct TrackTiming {
    /// Stream duration in media ticks (AVStream.duration).
    var duration: Int64
    /// AVCodecParameters.bit_rate as mov_build_index sets it (0 when it cannot).
    var bitRate: Int64
    /// Samples the edit list leaves visible (index entries without AVINDEX_DISCARD_FRAME).
    var displayedSamples: Int
    var displayedBytes: Int64
    /// Total samples in the track and the sum of their durations, for the average frame rate.
    var sampleCount: Int
    var sampleDurationTotal: Int64
    /// How far into the file the track's samples reach.
    var endOfData: Int64
    /// Where the first packet FFmpeg reads starts, and its size: the first sample, or with an edit the
    /// key frame mov_fix_index starts the index from.
    var firstSample: (offset: Int64, size: Int)

    /// One index entry: decode timestamp, composition offset, key frame flag.
    private struct Entry {
        var dts: Int64
        var pts: Int64
        var isKeyframe: Bool
    }

    init(_ track: TrackBox, movieTimescale: UInt32) throws(NotModelled) {
        let table = track.samples
        var entries: [Entry] = []
        entries.reserveCapacity(table.sampleCount)
        var streamSize: UInt64 = 0
        var dts: Int64 = 0
        var current = 0, sttsIndex = 0, sttsSample: UInt32 = 0, stscIndex = 0, stssIndex = 0
        endOfData = 0
        var offsets: [Int64] = []
        offsets.reserveCapacity(table.sampleCount)
        // The sample-to-chunk walk of mov_build_index, key frames from stss (1-based numbers).
        for (chunk, chunkOffset) in table.chunkOffsets.enumerated() {
            if stscIndex + 1 < table.sampleToChunk.count, chunk + 1 == Int(table.sampleToChunk[stscIndex + 1].firstChunk) {
                stscIndex += 1
            }
            var offset = Int64(chunkOffset)
            for _ in 0..<table.sampleToChunk[stscIndex].samplesPerChunk {
                guard current < table.sampleCount else { throw NotModelled("chunks hold more samples than stsz") }
                var isKeyframe = true
                if let sync = table.syncSamples {
                    isKeyframe = current + 1 == Int(sync[stssIndex])
                    if isKeyframe, stssIndex + 1 < sync.count { stssIndex += 1 }
                }
                let size = table.sampleSizes[current]
                offsets.append(offset)
                let pts = dts + (table.compositionOffsets?[current] ?? 0)
                entries.append(Entry(dts: dts, pts: pts, isKeyframe: isKeyframe))
                offset += Int64(size)
                endOfData = max(endOfData, offset)
                streamSize += UInt64(size)
                dts += Int64(table.timeToSample[sttsIndex].duration)
                sttsSample += 1
                current += 1
                if sttsIndex + 1 < table.timeToSample.count, sttsSample == table.timeToSample[sttsIndex].count {
                    sttsSample = 0
                    sttsIndex += 1
                }
            }
        }
        guard current == table.sampleCount else { throw NotModelled("chunks hold fewer samples than stsz") }
        sampleCount = current
        sampleDurationTotal = dts

        // mdhd duration, lowered to the stts total (mov_read_stts), then the bit rate from it.
        var duration = min(Int64(track.mediaDuration), dts)
        let (bits, overflow) = (streamSize * 8).multipliedReportingOverflow(by: UInt64(track.timescale))
        guard streamSize <= UInt64.max / 8, !overflow, let rate = Int64(exactly: bits / UInt64(duration)) else {
            throw NotModelled("bit rate overflows")
        }
        bitRate = rate

        displayedSamples = entries.count
        displayedBytes = Int64(streamSize)
        var first = 0
        if let edits = track.edits {
            // Only one edit that starts inside the media at normal speed is modelled: that is what a
            // trimmed stream copy or an encoder's priming delay writes.
            guard edits.count == 1, let edit = edits.first, edit.mediaTime >= 0, edit.rate == 0x10000, edit.duration > 0 else {
                throw NotModelled("edit list other than a single plain edit")
            }
            let editDuration = try Self.rescale(edit.duration, by: UInt64(track.timescale), over: UInt64(movieTimescale))
            // Timestamps stay under 2^62 (stts), so an edit within 2^61 ticks keeps every sum below Int64.max.
            guard edit.mediaTime <= Int64.max / 4, editDuration <= Int64.max / 4 else {
                throw NotModelled("edit list reaches past the end of time")
            }
            if track.kind == .video {
                first = Self.startIndex(entries, searching: edit.mediaTime, hasCompositionOffsets: table.compositionOffsets != nil)
                let shown = Self.shownByEdit(entries, from: first, mediaTime: edit.mediaTime, duration: editDuration,
                                             hasCompositionOffsets: table.compositionOffsets != nil)
                displayedSamples = shown.count
                displayedBytes = shown.reduce(0) { $0 + Int64(table.sampleSizes[$1]) }
            }
            duration = min(duration, editDuration)
        }
        self.duration = duration
        firstSample = (offsets[first], Int(table.sampleSizes[first]))
    }

    /// The samples mov_fix_index keeps without AVINDEX_DISCARD_FRAME for one edit: it starts from the
    /// last key frame whose presentation time is at or before the edit's start, marks every sample
    /// presented outside [start, start + duration) as discarded, and stops at the first key frame
    /// reaching the edit's end (with composition offsets, the second, for trailing B-frames).
    private static func shownByEdit(_ entries: [Entry], from start: Int, mediaTime: Int64, duration: Int64, hasCompositionOffsets: Bool) -> [Int] {
        let end = mediaTime + duration
        var shown: [Int] = []
        var foundKeyframeAfterEdit = false
        for index in start..<entries.count {
            let entry = entries[index]
            let frameDuration = index + 1 < entries.count ? entries[index + 1].dts - entry.dts : duration
            if entry.pts >= mediaTime, entry.pts < end { shown.append(index) }
            if entry.pts + frameDuration >= end, entry.isKeyframe {
                if hasCompositionOffsets, !foundKeyframeAfterEdit {
                    foundKeyframeAfterEdit = true
                    continue
                }
                break
            }
        }
        return shown
    }

    /// find_prev_closest_index: the last key frame with dts <= the edit start (index search), refined
    /// backwards to one whose pts is also <= it; failing that, the same without the key frame
    /// requirement on the search; failing both, the first sample.
    private static func startIndex(_ entries: [Entry], searching timestamp: Int64, hasCompositionOffsets: Bool) -> Int {
        func search(anyFrame: Bool) -> Int? {
            guard var index = entries.lastIndex(where: { $0.dts <= timestamp }) else { return nil }
            if !anyFrame {
                while index >= 0, !entries[index].isKeyframe { index -= 1 }
                guard index >= 0 else { return nil }
            }
            guard hasCompositionOffsets else { return index }
            while index >= 0 {
                if entries[index].pts <= timestamp, entries[index].isKeyframe { return index }
                index -= 1
            }
            return nil
        }
        return search(anyFrame: false) ?? search(anyFrame: true) ?? 0
    }

    /// av_rescale: a × b / c rounded to nearest, halves away from zero, without intermediate overflow.
    static func rescale(_ a: UInt64, by b: UInt64, over c: UInt64) throws(NotModelled) -> Int64 {
        guard c > 0 else { throw NotModelled("zero time scale") }
        let product = a.multipliedFullWidth(by: b)
        let (low, carry) = product.low.addingReportingOverflow(c / 2)
        let high = product.high + (carry ? 1 : 0)
        guard high < c else { throw NotModelled("rescale overflows") }
        let quotient = c.dividingFullWidth((high: high, low: low)).quotient
        guard quotient <= UInt64(Int64.max) else { throw NotModelled("rescale overflows") }
        return Int64(quotient)
    }
}
