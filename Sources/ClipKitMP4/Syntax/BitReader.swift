/// A syntax element that cannot be read: the data ends early, or a value is outside what the syntax
/// allows. Every parser in `Syntax/` throws this instead of trapping, whatever bytes it is given.
package struct SyntaxError: Error, CustomStringConvertible, Sendable {
    package var description: String
    package init(_ description: String) { self.description = description }
}

/// Reads an RBSP bit by bit, most significant bit first: fixed-width fields, flags and the
/// Exp-Golomb codes of H.264/HEVC (ITU-T H.264 §7.2, §9.1). Reading past the end throws.
package struct BitReader {
    private let bytes: [UInt8]
    private var position = 0

    package init<S: Sequence>(_ bytes: S) where S.Element == UInt8 { self.bytes = Array(bytes) }

    /// The bits of a NAL unit's payload: `nal` without its header bytes, emulation prevention removed.
    package init<C: Collection>(nalPayload nal: C, headerBytes: Int) where C.Element == UInt8 {
        self.init(RBSP.unescaped(nal.dropFirst(headerBytes)))
    }

    package var bitsLeft: Int { bytes.count * 8 - position }

    /// An unsigned field of `count` bits (0…32), u(n).
    package mutating func bits(_ count: Int) throws(SyntaxError) -> Int {
        guard (0...32).contains(count) else { throw SyntaxError("field of \(count) bits") }
        guard count <= bitsLeft else { throw SyntaxError("data ends inside a field") }
        var value = 0
        for _ in 0..<count {
            value = value << 1 | Int(bytes[position >> 3] >> (7 - UInt8(position & 7)) & 1)
            position += 1
        }
        return value
    }

    package mutating func flag() throws(SyntaxError) -> Bool { try bits(1) == 1 }

    package mutating func skip(_ count: Int) throws(SyntaxError) {
        guard count >= 0, count <= bitsLeft else { throw SyntaxError("data ends inside skipped bits") }
        position += count
    }

    /// An unsigned Exp-Golomb code, ue(v), refused above `limit` (the range the syntax allows).
    package mutating func ue(max limit: Int = Int(UInt32.max) - 1) throws(SyntaxError) -> Int {
        var zeros = 0
        while try bits(1) == 0 {
            zeros += 1
            guard zeros <= 32 else { throw SyntaxError("Exp-Golomb code longer than 32 bits") }
        }
        let value = (1 << zeros) - 1 + (try bits(zeros))
        guard value <= limit else { throw SyntaxError("value \(value) above \(limit)") }
        return value
    }

    /// A signed Exp-Golomb code, se(v): 1, −1, 2, −2, … for codes 1, 2, 3, 4, …, refused outside ±`limit`.
    package mutating func se(max limit: Int = Int(Int32.max)) throws(SyntaxError) -> Int {
        let code = try ue()
        let value = code & 1 == 1 ? (code + 1) / 2 : -(code / 2)
        guard abs(value) <= limit else { throw SyntaxError("value \(value) outside ±\(limit)") }
        return value
    }

    /// more_rbsp_data(): anything before the stop bit and its trailing zeros.
    package var moreRBSPData: Bool {
        guard let last = bytes.lastIndex(where: { $0 != 0 }) else { return false }
        let stopBit = last * 8 + 7 - bytes[last].trailingZeroBitCount
        return position < stopBit
    }
}

/// Raw byte sequence payloads: NAL units escape `00 00 0x` (x ≤ 3) as `00 00 03 0x`.
package enum RBSP {
    /// The payload with every emulation prevention byte removed.
    package static func unescaped<C: Collection>(_ nal: C) -> [UInt8] where C.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(nal.count)
        var zeros = 0
        for byte in nal {
            if zeros >= 2, byte == 3 {
                zeros = 0
                continue
            }
            zeros = byte == 0 ? zeros + 1 : 0
            out.append(byte)
        }
        return out
    }
}
