import Foundation

/// Any JSON value, kept as it was: used where a provider's payload must be stored untouched (the raw
/// `usage` object of a task, a request body). Numbers are `Decimal`, so `10.23` stays `10.23`.
public enum JSONValue: Sendable, Hashable, Codable {
    case null
    case bool(Bool)
    case number(Decimal)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        // Every miss throws, and throwing is most of the cost: the commonest kinds first (strings and
        // objects, which records and payloads are made of). The order is safe for JSONDecoder, which never
        // reads one kind as another (a decoder that reads `true` as a string would need Bool first).
        if c.decodeNil() {
            self = .null
        } else if let value = try? c.decode(String.self) {
            self = .string(value)
        } else if let value = try? c.decode([String: JSONValue].self) {
            self = .object(value)
        } else if let value = try? c.decode([JSONValue].self) {
            self = .array(value)
        } else if let value = try? c.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? c.decode(Decimal.self) {
            self = .number(value)
        } else if let value = try? c.decode(Double.self), value.isFinite {
            self = .number(Self.nearestDecimal(value))
        } else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "not a JSON value")
        }
    }

    /// A number beyond Decimal's exponent range (5e-324, 1e300) as near as Decimal can hold it, never NaN
    /// (which no JSON can hold).
    static func nearestDecimal(_ value: Double) -> Decimal {
        let near = Decimal(value)
        return !near.isNaN ? near : value.magnitude < 1 ? 0 : value > 0 ? .greatestFiniteMagnitude : -.greatestFiniteMagnitude
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let value): try c.encode(value)
        case .number(let value): try c.encode(value)
        case .string(let value): try c.encode(value)
        case .array(let value): try c.encode(value)
        case .object(let value): try c.encode(value)
        }
    }

    /// The member `key` of an object; nil for a missing key or a value that is not an object.
    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    public var objectValue: [String: JSONValue]? {
        if case .object(let members) = self { return members }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }

    /// A string, or a number or boolean written as text ("5" for 5); nil for null, arrays and objects.
    public var stringValue: String? {
        switch self {
        case .string(let value): value
        case .number(let value): value.description
        case .bool(let value): value ? "true" : "false"
        default: nil
        }
    }

    /// A number, or a string holding one ("5.0"): providers are not consistent about which they send.
    public var decimalValue: Decimal? {
        switch self {
        case .number(let value): return value
        case .string(let text):
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty, trimmed.allSatisfy({ "0123456789.-+eE".contains($0) }) else { return nil }
            return Decimal(string: trimmed)
        default: return nil
        }
    }

    /// A boolean, or the strings "true"/"false".
    public var boolValue: Bool? {
        switch self {
        case .bool(let value): value
        case .string(let text) where text.lowercased() == "true": true
        case .string(let text) where text.lowercased() == "false": false
        default: nil
        }
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}

extension JSONValue {
    /// `value` as its JSON (what `JSONEncoder` writes for it), e.g. to keep a `MediaInfo` in the ledger.
    public init<T: Encodable>(encoding value: T) throws {
        self = try JSONValue(parsing: JSONEncoder().encode(value))
    }

    /// The value this JSON encodes (the way back from `init(encoding:)`). Through `jsonText`, not
    /// `JSONEncoder`: every job's payload is read this way, and encoding a `JSONValue` generically cost
    /// as much as decoding it.
    public func decoded<T: Decodable>(as type: T.Type) throws -> T {
        try JSONDecoder().decode(type, from: Data(jsonText.utf8))
    }
}

extension JSONValue {
    /// This value as compact JSON text, keys sorted: what `JSONEncoder` writes for it with `.sortedKeys`
    /// and `.withoutEscapingSlashes` (a test holds the two equal), written directly. The ledger keeps every
    /// job payload this way, and a webhook burst's batch spent more on the encoder than on its inserts.
    public var jsonText: String {
        var bytes: [UInt8] = []
        write(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    private func write(to bytes: inout [UInt8]) {
        switch self {
        case .null: bytes += "null".utf8
        case .bool(let value): bytes += (value ? "true" : "false").utf8
        case .number(let value): bytes += value.description.utf8
        case .string(let value): Self.write(value, to: &bytes)
        case .array(let items):
            bytes.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                item.write(to: &bytes)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let members):
            bytes.append(UInt8(ascii: "{"))
            for (index, member) in members.sorted(by: { $0.key < $1.key }).enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                Self.write(member.key, to: &bytes)
                bytes.append(UInt8(ascii: ":"))
                member.value.write(to: &bytes)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// A JSON string: quote and backslash escaped, control characters as JSON's short escapes or \u00XX.
    private static func write(_ string: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes += #"\""#.utf8
            case UInt8(ascii: "\\"): bytes += #"\\"#.utf8
            case 0x08: bytes += #"\b"#.utf8
            case 0x09: bytes += #"\t"#.utf8
            case 0x0A: bytes += #"\n"#.utf8
            case 0x0C: bytes += #"\f"#.utf8
            case 0x0D: bytes += #"\r"#.utf8
            case ..<0x20:
                bytes += #"\u00"#.utf8
                bytes += [hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0x0F)]]
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
