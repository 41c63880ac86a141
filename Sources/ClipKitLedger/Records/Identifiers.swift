import Foundation

/// Record ids: a prefix naming the kind (`clip_`, `task_`, …) and 26 characters of Crockford base32 over
/// 48 bits of milliseconds and 80 random bits, so ids sort by creation time and never collide in practice.
enum RecordID {
    private static let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz".utf8)

    static func make(_ prefix: String, at date: Date = Date()) -> String {
        var value = [UInt8](repeating: 0, count: 16)
        let milliseconds = UInt64(max(0, date.timeIntervalSince1970 * 1000))
        for index in 0..<6 { value[index] = UInt8(truncatingIfNeeded: milliseconds >> (8 * (5 - index))) }
        // Two draws, not ten: each draw of the system generator is a system call.
        var generator = SystemRandomNumberGenerator()
        let random = (generator.next() as UInt64, generator.next() as UInt64)
        for index in 6..<14 { value[index] = UInt8(truncatingIfNeeded: random.0 >> (8 * (index - 6))) }
        for index in 14..<16 { value[index] = UInt8(truncatingIfNeeded: random.1 >> (8 * (index - 14))) }
        // 128 bits as 26 five-bit digits, the first carrying the top 3 bits.
        var text: [UInt8] = []
        text.reserveCapacity(26)
        for digit in 0..<26 {
            let bitOffset = digit == 0 ? 0 : 3 + (digit - 1) * 5
            let width = digit == 0 ? 3 : 5
            var chunk = 0
            for bit in bitOffset..<(bitOffset + width) {
                chunk = chunk << 1 | Int((value[bit / 8] >> (7 - bit % 8)) & 1)
            }
            text.append(alphabet[chunk])
        }
        return prefix + "_" + String(decoding: text, as: UTF8.self)
    }
}
