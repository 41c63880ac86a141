/// Rewrites one box deep inside an MP4 (e.g. moov/trak/mdia/minf/stbl/stsz) and fixes the sizes of
/// its parents, for regression inputs shaped like what a fuzzer or a broken writer produces. The
/// file's other bytes stay where they are when the edited box comes after the media data.
enum BoxEditor {
    /// `bytes` with the payload of the box at `path` (first match at each level) replaced.
    static func replacing(_ path: [String], in bytes: [UInt8], with payload: [UInt8]) -> [UInt8] {
        var children = parse(bytes[...])
        guard let index = children.firstIndex(where: { $0.type == path[0] }) else { preconditionFailure("no \(path[0])") }
        children[index].payload = path.count == 1 ? payload : replacing(Array(path.dropFirst()), in: children[index].payload, with: payload)
        return children.flatMap { box($0.type, $0.payload) }
    }

    /// The payload of the box at `path` (first match at each level).
    static func payload(_ path: [String], in bytes: [UInt8]) -> [UInt8] {
        guard let box = parse(bytes[...]).first(where: { $0.type == path[0] }) else { preconditionFailure("no \(path[0])") }
        return path.count == 1 ? box.payload : payload(Array(path.dropFirst()), in: box.payload)
    }

    /// `bytes` with the box at `path` patched: `edit` changes its payload in place.
    static func patching(_ path: [String], in bytes: [UInt8], _ edit: (inout [UInt8]) -> Void) -> [UInt8] {
        var changed = payload(path, in: bytes)
        edit(&changed)
        return replacing(path, in: bytes, with: changed)
    }

    /// Writes a big-endian 32-bit value into `bytes` at `offset`.
    static func put(_ value: UInt32, at offset: Int, in bytes: inout [UInt8]) {
        bytes.replaceSubrange(offset..<(offset + 4), with: be32(value))
    }

    /// A box of `type` around `payload` (32-bit size).
    static func box(_ type: String, _ payload: [UInt8]) -> [UInt8] {
        be32(UInt32(payload.count + 8)) + Array(type.utf8) + payload
    }

    static func be32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) } }

    /// A full box's payload: version 0, no flags, then the fields.
    static func fullBox(_ fields: [UInt32]) -> [UInt8] { [0, 0, 0, 0] + fields.flatMap(be32) }

    private static func parse(_ bytes: ArraySlice<UInt8>) -> [(type: String, payload: [UInt8])] {
        var boxes: [(type: String, payload: [UInt8])] = []
        var i = bytes.startIndex
        while i + 8 <= bytes.endIndex {
            let size = bytes[i..<(i + 4)].reduce(0) { $0 << 8 | Int($1) }
            let type = String(decoding: bytes[(i + 4)..<(i + 8)], as: UTF8.self)
            let end = size == 0 ? bytes.endIndex : i + size
            boxes.append((type, Array(bytes[(i + 8)..<end])))
            i = end
        }
        return boxes
    }
}
