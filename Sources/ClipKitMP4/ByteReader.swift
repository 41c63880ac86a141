/// Why the fast path stepped aside: the file has something it does not model exactly, so the answer
/// must come from FFmpeg. The reason is for tests and debugging; callers only see nil.
package struct NotModelled: Error, CustomStringConvertible {
    package var reason: String
    package init(_ reason: String) { self.reason = reason }
    package var description: String { reason }
}

/// Reads big-endian fields from an in-memory box payload; running past the end is `NotModelled`
/// (a box shorter than its fields: FFmpeg would read garbage or fail, so it decides).
struct ByteReader {
    let bytes: ArraySlice<UInt8>
    private(set) var position: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        position = bytes.startIndex
    }

    var remaining: Int { bytes.endIndex - position }

    mutating func skip(_ count: Int) throws(NotModelled) {
        guard count >= 0, count <= remaining else { throw NotModelled("box too short") }
        position += count
    }

    mutating func bytes(_ count: Int) throws(NotModelled) -> ArraySlice<UInt8> {
        guard count >= 0, count <= remaining else { throw NotModelled("box too short") }
        defer { position += count }
        return bytes[position..<(position + count)]
    }

    mutating func u8() throws(NotModelled) -> UInt8 { try bytes(1).first! }

    mutating func u16() throws(NotModelled) -> UInt16 {
        try bytes(2).reduce(0) { $0 << 8 | UInt16($1) }
    }

    mutating func u32() throws(NotModelled) -> UInt32 {
        try bytes(4).reduce(0) { $0 << 8 | UInt32($1) }
    }

    mutating func u64() throws(NotModelled) -> UInt64 {
        try bytes(8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    mutating func i32() throws(NotModelled) -> Int32 { Int32(bitPattern: try u32()) }

    /// A box type, one character per byte (ISO 8859-1), so that "©too" (0xA9 't' 'o' 'o') reads as written.
    mutating func fourCC() throws(NotModelled) -> String {
        String(String.UnicodeScalarView(try bytes(4).map { Unicode.Scalar($0) }))
    }

    /// A full box's version byte (the 24 flag bits are skipped).
    mutating func version() throws(NotModelled) -> UInt8 {
        let version = try u8()
        try skip(3)
        return version
    }
}

/// One box inside an in-memory parent: its type and payload (the bytes after the header).
struct Box {
    var type: String
    var payload: ArraySlice<UInt8>

    /// The child boxes that tile `bytes` exactly; anything that does not tile is `NotModelled`.
    static func children(of bytes: ArraySlice<UInt8>) throws(NotModelled) -> [Box] {
        var reader = ByteReader(bytes)
        var boxes: [Box] = []
        while reader.remaining > 0 {
            // Some writers end a container with a 32-bit zero terminator (QuickTime); FFmpeg skips it,
            // but it is not what the providers write, so let FFmpeg judge.
            guard reader.remaining >= 8 else { throw NotModelled("trailing bytes in a container box") }
            var size = UInt64(try reader.u32())
            let type = try reader.fourCC()
            var header: UInt64 = 8
            if size == 1 {
                size = try reader.u64()
                header = 16
            } else if size == 0 {
                size = UInt64(reader.remaining) + 8  // extends to the end of the parent
            }
            guard size >= header, size - header <= UInt64(reader.remaining) else {
                throw NotModelled("box '\(type)' overruns its parent")
            }
            boxes.append(Box(type: type, payload: try reader.bytes(Int(size - header))))
        }
        return boxes
    }
}

extension Array where Element == Box {
    /// The only child of a type: nil when absent, `NotModelled` when repeated (FFmpeg's choice between
    /// duplicates is not something to guess).
    func single(_ type: String) throws(NotModelled) -> Box? {
        let matches = filter { $0.type == type }
        guard matches.count <= 1 else { throw NotModelled("more than one '\(type)' box") }
        return matches.first
    }

    func required(_ type: String) throws(NotModelled) -> Box {
        guard let box = try single(type) else { throw NotModelled("no '\(type)' box") }
        return box
    }

    /// Refuses boxes outside `known`: an unfamiliar box may change what FFmpeg reports.
    func onlyContaining(_ known: Set<String>, in parent: String) throws(NotModelled) -> [Box] {
        if let other = first(where: { !known.contains($0.type) }) {
            throw NotModelled("unexpected '\(other.type)' box in '\(parent)'")
        }
        return self
    }
}
