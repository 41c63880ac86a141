import Foundation

extension JSONValue {
    /// The JSON text `bytes` (UTF-8, RFC 8259) as a value: what `JSONDecoder` makes of it as a `JSONValue`
    /// (a test holds the two equal; only JSONDecoder's guess of UTF-16 or UTF-32 from NUL bytes is left
    /// out), parsed directly. Every job claim reads its payload this way, and
    /// through the decoder (a thrown miss per kind tried, per value) a webhook burst's job spent more on
    /// its payload than on its statements.
    /// - Throws: `JSONValue.ParseError` saying what is wrong at which byte.
    public init<Bytes: Collection<UInt8>>(parsing bytes: Bytes) throws {
        func parse(_ buffer: UnsafeBufferPointer<UInt8>) throws -> JSONValue {
            var parser = JSONParser(buffer)
            return try parser.document()
        }
        self = try bytes.withContiguousStorageIfAvailable(parse) ?? Array(bytes).withUnsafeBufferPointer(parse)
    }

    /// How deep arrays and objects may nest in a text that is read (as `JSONDecoder` bounds it): a reader
    /// that recursed without a bound would exhaust its stack on a hostile file and crash.
    public static let maximumNesting = 512

    /// Why a text is not JSON.
    public struct ParseError: Error, CustomStringConvertible, Equatable {
        /// The byte offset where the text stops being JSON.
        public let offset: Int
        public let reason: String
        public var description: String { "not JSON at byte \(offset): \(reason)" }
    }
}

/// A recursive-descent parser over UTF-8 bytes, its nesting bounded (`JSONValue.maximumNesting`).
private struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0
    var depth = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    mutating func document() throws -> JSONValue {
        // JSONDecoder's two leniencies, kept so that no text it read is refused now: a byte order mark
        // before the value, and a comma before a closing bracket.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
        let value = try self.value()
        skipWhitespace()
        guard index == bytes.count else { throw failure("text after the value") }
        return value
    }

    private func failure(_ reason: String) -> JSONValue.ParseError { JSONValue.ParseError(offset: index, reason: reason) }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): index += 1
            default: return
            }
        }
    }

    private mutating func value() throws -> JSONValue {
        skipWhitespace()
        guard index < bytes.count else { throw failure("the text ends where a value should be") }
        switch bytes[index] {
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "{"): return try nested { try $0.object() }
        case UInt8(ascii: "["): return try nested { try $0.array() }
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw failure("no value starts with \"\(Unicode.Scalar(bytes[index]))\"")
        }
    }

    private mutating func nested(_ parse: (inout JSONParser) throws -> JSONValue) throws -> JSONValue {
        depth += 1
        defer { depth -= 1 }
        guard depth <= JSONValue.maximumNesting else { throw failure("nested more than \(JSONValue.maximumNesting) deep") }
        return try parse(&self)
    }

    private mutating func literal(_ word: StaticString) throws {
        let count = word.utf8CodeUnitCount
        guard bytes.count - index >= count,
              UnsafeBufferPointer(start: word.utf8Start, count: count).elementsEqual(bytes[index..<index + count])
        else { throw failure("expected \(word)") }
        index += count
    }

    private mutating func object() throws -> JSONValue {
        index += 1  // {
        var members: [String: JSONValue] = [:]
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            if !members.isEmpty, index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(members)
            }
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw failure("expected a member's name") }
            let key = try string()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw failure("expected \":\" after a name") }
            index += 1
            members[key] = try value()
            skipWhitespace()
            guard index < bytes.count else { throw failure("the text ends inside an object") }
            switch bytes[index] {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"): index += 1; return .object(members)
            default: throw failure("expected \",\" or \"}\" in an object")
            }
        }
    }

    private mutating func array() throws -> JSONValue {
        index += 1  // [
        var items: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(items)
        }
        while true {
            skipWhitespace()
            if !items.isEmpty, index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(items)
            }
            items.append(try value())
            skipWhitespace()
            guard index < bytes.count else { throw failure("the text ends inside an array") }
            switch bytes[index] {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"): index += 1; return .array(items)
            default: throw failure("expected \",\" or \"]\" in an array")
            }
        }
    }

    /// A string from its opening quote; the common case, no escapes, is one validated copy.
    private mutating func string() throws -> String {
        index += 1  // "
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let text = try validated(UnsafeBufferPointer(rebasing: bytes[start..<index]), at: start)
                index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { return try escapedString(from: start) }
            guard byte >= 0x20 else { throw failure("a control character inside a string") }
            index += 1
        }
        throw failure("the text ends inside a string")
    }

    private mutating func escapedString(from start: Int) throws -> String {
        var utf8 = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return try utf8.withUnsafeBufferPointer { try validated($0, at: start) }
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { throw failure("the text ends inside an escape") }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escape)
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0C)
                case UInt8(ascii: "n"): utf8.append(0x0A)
                case UInt8(ascii: "r"): utf8.append(0x0D)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "u"): utf8 += try unicodeEscape().utf8
                default: throw failure("\"\\\(Unicode.Scalar(escape))\" is not an escape")
                }
            case ..<0x20:
                throw failure("a control character inside a string")
            default:
                utf8.append(byte)
                index += 1
            }
        }
        throw failure("the text ends inside a string")
    }

    /// `XXXX` after `\u`, and a low surrogate's `\uXXXX` after a high one's; a lone surrogate is an error.
    private mutating func unicodeEscape() throws -> String {
        let first = try hexQuad()
        switch first {
        case 0xD800...0xDBFF:
            guard bytes.count - index >= 2, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                throw failure("a high surrogate without its low one")
            }
            index += 2
            let second = try hexQuad()
            guard (0xDC00...0xDFFF).contains(second) else { throw failure("a high surrogate without its low one") }
            let scalar = Unicode.Scalar(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))!
            return String(Character(scalar))
        case 0xDC00...0xDFFF:
            throw failure("a low surrogate without its high one")
        default:
            return String(Character(Unicode.Scalar(first)!))
        }
    }

    private mutating func hexQuad() throws -> UInt32 {
        guard bytes.count - index >= 4 else { throw failure("\\u needs four hex digits") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let digit = bytes[index]
            let nibble: UInt8
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = digit - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = digit - UInt8(ascii: "A") + 10
            default: throw failure("\\u needs four hex digits")
            }
            value = value << 4 | UInt32(nibble)
            index += 1
        }
        return value
    }

    private func validated(_ utf8: UnsafeBufferPointer<UInt8>, at start: Int) throws -> String {
        guard let text = String(validating: utf8, as: UTF8.self) else {
            throw JSONValue.ParseError(offset: start, reason: "a string that is not UTF-8")
        }
        return text
    }

    /// RFC 8259's number grammar exactly; the text to `Decimal`, or beyond its range (1e300, 5e-300) as
    /// near as it can hold it, as `JSONValue`'s decoding does; beyond a Double's range, an error, as
    /// JSONDecoder's.
    private mutating func number() throws -> Decimal {
        let start = index
        func digits() -> Int {
            let first = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            return index - first
        }
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) else {
            throw failure("a number without digits")
        }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            _ = digits()
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { throw failure("a number's fraction without digits") }
        }
        let mantissaEnd = index
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { throw failure("a number's exponent without digits") }
        }
        if index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
            throw failure("a number with a leading zero")
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        // A nonzero number that comes out as zero has underflowed, as one that comes out infinite overflowed.
        let significant = bytes[start..<mantissaEnd].contains { (UInt8(ascii: "1")...UInt8(ascii: "9")).contains($0) }
        if let decimal = Decimal(string: text, locale: nil), !decimal.isNaN, !(decimal.isZero && significant) { return decimal }
        guard let double = Double(text), double.isFinite, !(double == 0 && significant) else {
            index = start
            throw failure("a number beyond what a Double holds")
        }
        return JSONValue.nearestDecimal(double)
    }
}
