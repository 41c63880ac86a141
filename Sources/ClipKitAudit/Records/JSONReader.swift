import ClipKitCore
import Foundation

/// A JSON syntax error at a line and column of its file.
struct JSONSyntaxError: Error, Sendable, CustomStringConvertible {
    var line: Int
    var column: Int
    var message: String

    var description: String { "line \(line), column \(column): \(message)" }
}

/// A small pull parser that reads a file holding one JSON value, several (JSON Lines or concatenated
/// objects), or a top-level array, and says on which line each value starts.
///
/// Foundation's `JSONSerialization` would turn 10.23 into a `Double` and report no line numbers;
/// an audit needs both exact amounts and "file:line" in its messages.
struct JSONReader {
    private let bytes: [UInt8]
    private var index = 0
    private var line = 1
    private var lineStart = 0
    private var depth = 0
    private var inTopLevelArray = false
    private var currentMember: String?
    /// Where the elements of arrays that are members of the last top-level object start, by member name.
    private(set) var lineIndex = LineIndex()

    struct LineIndex {
        var elementLines: [String: [Int]] = [:]
    }

    init(_ data: Data) {
        bytes = [UInt8](data)
    }

    init(_ text: String) {
        bytes = Array(text.utf8)
    }

    /// True when only whitespace is left.
    var isAtEnd: Bool {
        var probe = self
        probe.skipWhitespace()
        return probe.index >= probe.bytes.count
    }

    /// The next top-level value and the line it starts on; nil at the end of the input.
    /// - Throws: `JSONSyntaxError`; call `recover()` to go on with the next line that opens a value.
    mutating func next() throws -> (line: Int, value: JSONValue)? {
        skipWhitespace()
        guard index < bytes.count else { return nil }
        lineIndex = LineIndex()
        let start = line
        let value = try parseValue()
        return (start, value)
    }

    /// Like `next()`, but the elements of a top-level array come one by one, each with its own line,
    /// so a file holding an array of 100,000 records is never held as one value.
    mutating func nextRecord() throws -> (line: Int, value: JSONValue)? {
        skipWhitespace()
        if inTopLevelArray {
            guard index < bytes.count else { throw error("unterminated array") }
            if bytes[index] == UInt8(ascii: "]") {
                index += 1
                inTopLevelArray = false
                depth = 0
                return try nextRecord()
            }
            let start = line
            let value = try parseValue()
            skipWhitespace()
            if index < bytes.count && bytes[index] == UInt8(ascii: ",") {
                index += 1
            } else if index >= bytes.count || bytes[index] != UInt8(ascii: "]") {
                throw error("expected ',' or ']' after an array element")
            }
            return (start, value)
        }
        guard index < bytes.count else { return nil }
        if bytes[index] == UInt8(ascii: "[") {
            index += 1
            inTopLevelArray = true
            depth = 1
            return try nextRecord()
        }
        return try next()
    }

    /// After an error: true if reading can go on. Inside a top-level array it cannot (the rest of
    /// the array is skipped); otherwise the reader moves to the next line that starts with `{` or `[`
    /// in its first column, which is the next record of a JSON Lines file.
    mutating func recover() -> Bool {
        depth = 0
        if inTopLevelArray {
            index = bytes.count
            inTopLevelArray = false
            return false
        }
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\n") {
                index += 1
                line += 1
                lineStart = index
                if index < bytes.count && (bytes[index] == UInt8(ascii: "{") || bytes[index] == UInt8(ascii: "[")) {
                    return true
                }
            } else {
                index += 1
            }
        }
        return false
    }

    // MARK: - Values

    private mutating func parseValue() throws -> JSONValue {
        skipWhitespace()
        guard index < bytes.count else { throw error("unexpected end of input") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default:
            throw error("unexpected character '\(Character(Unicode.Scalar(bytes[index])))'")
        }
    }

    private mutating func parseObject() throws -> JSONValue {
        index += 1
        depth += 1
        defer { depth -= 1 }
        try checkNesting()
        var members: [String: JSONValue] = [:]
        skipWhitespace()
        if index < bytes.count && bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a member name") }
            let key = try parseString()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
                throw error("expected ':' after \"\(key)\"")
            }
            index += 1
            let outer = currentMember
            currentMember = depth == 1 ? key : nil
            members[key] = try parseValue()
            currentMember = outer
            skipWhitespace()
            guard index < bytes.count else { throw error("unterminated object") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
            } else if bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(members)
            } else {
                throw error("expected ',' or '}' in an object")
            }
        }
    }

    private mutating func parseArray() throws -> JSONValue {
        index += 1
        let member = currentMember
        currentMember = nil
        depth += 1
        defer { depth -= 1 }
        try checkNesting()
        var items: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count && bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(items)
        }
        while true {
            skipWhitespace()
            if let member { lineIndex.elementLines[member, default: []].append(line) }
            items.append(try parseValue())
            skipWhitespace()
            guard index < bytes.count else { throw error("unterminated array") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
            } else if bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(items)
            } else {
                throw error("expected ',' or ']' in an array")
            }
        }
    }

    /// A file nested deeper than `JSONValue.maximumNesting` is a syntax error, not a stack overflow.
    private func checkNesting() throws {
        guard depth <= JSONValue.maximumNesting else { throw error("nested more than \(JSONValue.maximumNesting) deep") }
    }

    private mutating func parseString() throws -> String {
        index += 1
        let start = index
        // Fast path: no escapes.
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let text = String(decoding: bytes[start..<index], as: UTF8.self)
                index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte == UInt8(ascii: "\n") { throw error("unterminated string") }
            index += 1
        }
        var scalars = [UInt8](bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return String(decoding: scalars, as: UTF8.self)
            case UInt8(ascii: "\n"):
                throw error("unterminated string")
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { throw error("unterminated string") }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""): scalars.append(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"): scalars.append(UInt8(ascii: "\\"))
                case UInt8(ascii: "/"): scalars.append(UInt8(ascii: "/"))
                case UInt8(ascii: "b"): scalars.append(8)
                case UInt8(ascii: "f"): scalars.append(12)
                case UInt8(ascii: "n"): scalars.append(10)
                case UInt8(ascii: "r"): scalars.append(13)
                case UInt8(ascii: "t"): scalars.append(9)
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if (0xD800...0xDBFF).contains(code), index + 1 < bytes.count,
                        bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
                    {
                        index += 2
                        let low = try hex4()
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    let scalar = Unicode.Scalar(code) ?? "\u{FFFD}"
                    scalars.append(contentsOf: Array(String(Character(scalar)).utf8))
                default:
                    throw error("bad escape '\\\(Character(Unicode.Scalar(escape)))'")
                }
            default:
                scalars.append(byte)
                index += 1
            }
        }
        throw error("unterminated string")
    }

    private mutating func hex4() throws -> UInt32 {
        guard index + 4 <= bytes.count else { throw error("short \\u escape") }
        var value: UInt32 = 0
        for byte in bytes[index..<index + 4] {
            value <<= 4
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value |= UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value |= UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): value |= UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw error("bad \\u escape")
            }
        }
        index += 4
        return value
    }

    private mutating func parseNumber() throws -> Decimal {
        let start = index
        func digits() -> Int {
            let from = index
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                index += 1
            }
            return index - from
        }
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard digits() > 0 else { throw error("bad number") }
        if index < bytes.count && bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { throw error("bad number") }
        }
        if index < bytes.count && (bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E")) {
            index += 1
            if index < bytes.count && (bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-")) {
                index += 1
            }
            guard digits() > 0 else { throw error("bad number") }
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        guard let value = Decimal(string: text, locale: Decimal.posix) else {
            throw error("bad number \(text)")
        }
        return value
    }

    private mutating func literal(_ word: String) throws {
        let expected = Array(word.utf8)
        guard index + expected.count <= bytes.count, Array(bytes[index..<index + expected.count]) == expected else {
            throw error("unexpected characters (expected \(word))")
        }
        index += expected.count
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\n"):
                index += 1
                line += 1
                lineStart = index
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                index += 1
            case 0xEF where index == 0 && bytes.count >= 3 && bytes[1] == 0xBB && bytes[2] == 0xBF:
                index += 3  // UTF-8 byte order mark
            default:
                return
            }
        }
    }

    private func error(_ message: String) -> JSONSyntaxError {
        JSONSyntaxError(line: line, column: index - lineStart + 1, message: message)
    }
}
