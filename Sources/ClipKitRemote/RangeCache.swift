import ClipKitMP4

/// The byte ranges of one remote clip fetched so far, as a `ByteSource` the MP4 reader reads from.
/// A read that is not all here fails and remembers what it lacked (`missing`), so the caller can fetch
/// that range and run the reader again: the reader stays synchronous and knows nothing of HTTP, and
/// its many small reads (box headers, the moov, the first sample's start) cost only the few requests
/// that filled the cache.
final class RangeCache: ByteSource {
    let size: Int64
    /// Fetched stretches, sorted by start and never overlapping or touching (merged on insert).
    private(set) var pieces: [(start: Int64, bytes: [UInt8])] = []
    /// The range the last failed read needed and the cache lacked.
    private(set) var missing: Range<Int64>?

    init(size: Int64) { self.size = size }

    /// Adds fetched bytes starting at `start`, merging them with the pieces they overlap or touch.
    func add(_ bytes: [UInt8], at start: Int64) {
        guard !bytes.isEmpty else { return }
        var merged = (start: start, bytes: bytes)
        var kept: [(start: Int64, bytes: [UInt8])] = []
        for piece in pieces {
            let pieceEnd = piece.start + Int64(piece.bytes.count), mergedEnd = merged.start + Int64(merged.bytes.count)
            guard piece.start <= mergedEnd, merged.start <= pieceEnd else {
                kept.append(piece)
                continue
            }
            let lower = min(piece.start, merged.start), upper = max(pieceEnd, mergedEnd)
            var joined = [UInt8](repeating: 0, count: Int(upper - lower))
            joined.replaceSubrange(Int(piece.start - lower)..<Int(pieceEnd - lower), with: piece.bytes)
            joined.replaceSubrange(Int(merged.start - lower)..<Int(mergedEnd - lower), with: merged.bytes)
            merged = (lower, joined)
        }
        kept.append(merged)
        pieces = kept.sorted { $0.start < $1.start }
    }

    /// The first byte in `range` not fetched yet, or nil when all of it is here.
    func firstGap(in range: Range<Int64>) -> Int64? {
        var position = range.lowerBound
        for piece in pieces where piece.start <= position {
            position = max(position, piece.start + Int64(piece.bytes.count))
        }
        return position < range.upperBound ? position : nil
    }

    /// Takes the range the last failed read lacked, clearing it.
    func takeMissing() -> Range<Int64>? {
        defer { missing = nil }
        return missing
    }

    func read(at offset: Int64, count: Int) throws(NotModelled) -> [UInt8] {
        try checkRange(offset, count)
        let end = offset + Int64(count)
        if let piece = pieces.last(where: { $0.start <= offset }), piece.start + Int64(piece.bytes.count) >= end {
            let from = Int(offset - piece.start)
            return Array(piece.bytes[from..<(from + count)])
        }
        missing = (firstGap(in: offset..<end) ?? offset)..<end
        throw NotModelled("bytes \(offset)-\(end - 1) not fetched yet")
    }
}
