import ClipKitCore
import Foundation
import Testing

/// `JSONValue(parsing:)` against the oracle it replaces, `JSONDecoder` decoding a `JSONValue`: the same
/// value for every JSON text, and an error for every text that is not JSON.
@Suite("JSON values parsed directly, as JSONDecoder reads them")
struct JSONParserTests {
    static func decoded(_ text: [UInt8]) -> JSONValue? { try? JSONDecoder().decode(JSONValue.self, from: Data(text)) }

    static let documents: [String] = [
        "null", "true", "false", "0", "-0", "7", "-12", "10.230", "0.000001", "1e5", "1E+2", "2.5e-3", "-1.5E10",
        "123456789012345678901234567890", "3.14159265358979323846264338327950288", "1e300", "5e-300", "-1e300",
        #""""#, #""plain""#, #""é 😀 \u00e9 \ud83d\ude00 \u2028 \/ \" \\ \b\f\n\r\t \u0000""#,
        "[]", "{}", " \t\n\r[ 1 , 2 ,\n3 ] ",
        // JSONDecoder's leniencies: a comma before the closing bracket, a byte order mark.
        "[1,]", #"{"a":[2 , ] , }"#, "\u{FEFF}[1]", #"{"a":{"b":[{"c":null}]},"d":[[],[{}]]}"#,
        #"{"id":"pred_1","data":{"id":"pred_2","outputs":["https://x/y.mp4"]},"n":-0.5,"ok":true}"#,
        #"{"é":1,"E":2,"e":3}"#, String(repeating: "[", count: 200) + String(repeating: "]", count: 200),
    ]

    static let notJSON: [[UInt8]] = [
        "", " ", "{", "}", "[,]", "[1,,]", "{,}", "[1 2]", #"{"a" 1}"#, "{1:2}", #"{"a":}"#, "01", "-01", "1.", ".5", "-", "+1",
        "1e", "1e+", "1e400", "-1e400", "5e-400", "0x10", "tru", "nul", "True", "NaN", "Infinity",
        #""\x""#, #""\u12""#, #""\ud800""#, #""\udc00""#,
        #""\ud800\u0041""#, "\"tab\there\"", "\"open", "[1] x", "1 2", "'single'", "[" + String(repeating: "[", count: 600),
        String(repeating: "[", count: 600) + String(repeating: "]", count: 600),
    ].map { Array($0.utf8) } + [[0x22, 0xFF, 0x22], [0x22, 0xC3, 0x22], [0xEF, 0xBB, 0xBF]]

    @Test("every JSON text: the value JSONDecoder reads", arguments: documents)
    func sameAsDecoder(_ text: String) throws {
        let oracle = try #require(Self.decoded(Array(text.utf8)), "JSONDecoder reads \(text)")
        #expect(try JSONValue(parsing: text.utf8) == oracle)
        #expect(try JSONValue(parsing: Data(text.utf8)) == oracle)
    }

    @Test("every text that is not JSON: an error that says where, as JSONDecoder throws", arguments: notJSON)
    func rejects(_ bytes: [UInt8]) {
        #expect(Self.decoded(bytes) == nil, "JSONDecoder rejects \(String(decoding: bytes, as: UTF8.self))")
        #expect(throws: JSONValue.ParseError.self) { try JSONValue(parsing: bytes) }
    }

    @Test("random values: their jsonText and JSONEncoder's pretty text parse back to them")
    func randomValues() throws {
        var random = SeededRandom(seed: 12)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted]
        for _ in 0..<300 {
            let value = random.value(depth: 0)
            #expect(try JSONValue(parsing: value.jsonText.utf8) == value)
            let pretty = try encoder.encode(value)
            #expect(try JSONValue(parsing: pretty) == Self.decoded(Array(pretty)))
        }
    }

    @Test("mutated documents (bytes flipped, cut, doubled): the same answer as JSONDecoder, value or refusal")
    func mutations() throws {
        var random = SeededRandom(seed: 7)
        let seeds = Self.documents.map { Array($0.utf8) }.filter { !$0.isEmpty }
        let alphabet = Array(#"{}[]",:\-+.eE0123456789 tfnul"#.utf8) + [0x00, 0x0A, 0x7F, 0xC3, 0xFF]
        for _ in 0..<3000 {
            var bytes = seeds.randomElement(using: &random)!
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                let at = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0...3, using: &random) {
                case 0: bytes[at] = alphabet.randomElement(using: &random)!
                case 1: bytes.removeSubrange(at...)
                case 2: bytes.insert(alphabet.randomElement(using: &random)!, at: at)
                default: bytes.insert(contentsOf: bytes[at...], at: at)
                }
                if bytes.isEmpty { bytes = [alphabet.randomElement(using: &random)!] }
            }
            let parsed = try? JSONValue(parsing: bytes)
            // JSONDecoder reads NUL bytes as a sign of UTF-16 or UTF-32 text; this parser reads UTF-8 only.
            #expect(parsed == (bytes.contains(0) ? nil : Self.decoded(bytes)), "\(bytes)")
        }
    }

    @Test("an error names the byte")
    func errorOffset() {
        let error = #expect(throws: JSONValue.ParseError.self) { try JSONValue(parsing: "[1, 2 3]".utf8) }
        #expect(error?.offset == 6)
        #expect(error?.description == #"not JSON at byte 6: expected "," or "]" in an array"#)
    }
}

/// A small deterministic generator (SplitMix64), so a failure repeats.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func string() -> String {
        let pieces = ["a", "Z", "0", " ", "\"", "\\", "/", "\n", "\u{1}", "\u{7f}", "é", "€", "😀", "\u{2028}", "key"]
        return (0..<Int.random(in: 0...6, using: &self)).map { _ in pieces.randomElement(using: &self)! }.joined()
    }

    mutating func value(depth: Int) -> JSONValue {
        switch Int.random(in: 0...(depth > 4 ? 3 : 5), using: &self) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &self))
        case 2:
            let numbers = ["0", "-1", "42", "10.25", "-0.001", "1e20", "123456789.987654321", "7E-5"]
            return .number(Decimal(string: numbers.randomElement(using: &self)!)!)
        case 3: return .string(string())
        case 4: return .array((0..<Int.random(in: 0...4, using: &self)).map { _ in value(depth: depth + 1) })
        default:
            var members: [String: JSONValue] = [:]
            for _ in 0..<Int.random(in: 0...4, using: &self) { members[string()] = value(depth: depth + 1) }
            return .object(members)
        }
    }
}
