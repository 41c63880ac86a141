/// An MP4 stored without most of its media data: every top-level box byte for byte, except that an
/// `mdat` keeps only its header and the first `keptMediaBytes` of its payload, and the next box
/// follows at once. Read back, the rest of the payload reads as zeros, so every box and every chunk
/// offset in the index is where it was in the file.
///
/// The probe reads the index and, of the media data, only the start of the first picture (the
/// writer's SEI), so this is all of a clip it needs: a 300 KB sample becomes a few kilobytes. The
/// fuzzer's seeds are stored this way (most of a whole file is pictures, where mutations find
/// nothing), and so could be the head of a remote clip fetched without its media.
package struct SparseSource: ByteSource {
    /// The stored bytes, and for each stretch of the file they stand for: where it starts in the
    /// file, where in `stored` (nil for elided media data), and how long it is.
    private let stored: [UInt8]
    private let pieces: [(fileOffset: Int64, storedOffset: Int?, length: Int64)]
    package let size: Int64

    /// How much of each mdat payload is stored: the first picture's parameter sets, SEI and slice headers.
    package static let keptMediaBytes = 4096

    /// Reads the stored form. Anything that is not a box (a cut header, trailing bytes) is kept as is.
    package init(stored: [UInt8]) {
        self.stored = stored
        var pieces: [(fileOffset: Int64, storedOffset: Int?, length: Int64)] = []
        var position = 0, fileOffset: Int64 = 0
        func keep(_ count: Int) {
            pieces.append((fileOffset, position, Int64(count)))
            position += count
            fileOffset += Int64(count)
        }
        while position < stored.count {
            guard let header = Self.header(stored, at: position) else {
                keep(stored.count - position)
                break
            }
            let (type, size, headerSize) = header
            // A media data box stands for `size` bytes but stores its header and the start of its payload.
            if type == Self.mdat, size > UInt64(headerSize), size <= UInt64(Int64.max) - UInt64(fileOffset) {
                let payload = Int64(size) - Int64(headerSize)
                let kept = min(Int(min(payload, Int64(Self.keptMediaBytes))), stored.count - position - headerSize)
                pieces.append((fileOffset, position, Int64(headerSize + kept)))
                pieces.append((fileOffset + Int64(headerSize + kept), nil, payload - Int64(kept)))
                position += headerSize + kept
                fileOffset += Int64(size)
            } else {
                // Size 0 ("to the end") and sizes past the stored bytes keep what there is.
                keep(size == 0 || size > UInt64(stored.count - position) ? stored.count - position : max(Int(size), headerSize))
            }
        }
        self.pieces = pieces
        size = fileOffset
    }

    package func read(at offset: Int64, count: Int) throws(NotModelled) -> [UInt8] {
        try checkRange(offset, count)
        var out = [UInt8](repeating: 0, count: count)
        let end = offset + Int64(count)
        // The pieces are in file order: start from the last one beginning at or before `offset`.
        var low = 0, high = pieces.count
        while low < high {
            let middle = (low + high) / 2
            if pieces[middle].fileOffset <= offset { low = middle + 1 } else { high = middle }
        }
        for piece in pieces[max(0, low - 1)...] {
            guard piece.fileOffset < end else { break }
            guard piece.fileOffset + piece.length > offset, let storedOffset = piece.storedOffset else { continue }  // zeros
            let from = max(offset, piece.fileOffset), to = min(end, piece.fileOffset + piece.length)
            let source = storedOffset + Int(from - piece.fileOffset)
            out.replaceSubrange(Int(from - offset)..<Int(to - offset), with: stored[source..<(source + Int(to - from))])
        }
        return out
    }

    /// The stored form of a whole file: what `init(stored:)` reads back as the same file, with
    /// zeros where the media data past its first `keptMediaBytes` was. A file whose boxes do not tile
    /// it (cut short, trailing bytes) is returned as it is: its media data cannot be told from the rest.
    package static func eliding(_ file: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [], position = 0
        while position < file.count {
            guard let (type, size, headerSize) = header(file, at: position), size >= UInt64(headerSize),
                  size <= UInt64(file.count - position), size > 0
            else { return file }
            out += file[position..<(position + (type == mdat ? headerSize + min(Int(size) - headerSize, keptMediaBytes) : Int(size)))]
            position += Int(size)
        }
        return out
    }

    private static let mdat: UInt32 = 0x6d64_6174  // "mdat"

    /// A box header at `position`: type, declared size (0 means to the end), header length.
    private static func header(_ bytes: [UInt8], at position: Int) -> (type: UInt32, size: UInt64, headerSize: Int)? {
        func u32(_ at: Int) -> UInt32 { bytes[at..<(at + 4)].reduce(0) { $0 << 8 | UInt32($1) } }
        guard bytes.count - position >= 8 else { return nil }
        let size = u32(position), type = u32(position + 4)
        guard size == 1 else { return (type, UInt64(size), 8) }
        guard bytes.count - position >= 16 else { return nil }
        return (type, UInt64(u32(position + 8)) << 32 | UInt64(u32(position + 12)), 16)
    }
}
