import ClipKitCore
import Foundation
import Testing

@Suite("JSON values: written directly as JSONEncoder writes them, read back unchanged")
struct JSONValueTests {
    /// Every control character, escapes, non-ASCII, keys that sort differently by case and by digits.
    static let values: [JSONValue] = [
        .null, .bool(true), .bool(false), .number(0), .number(Decimal(string: "10.230")!), .number(Decimal(string: "-0.5")!),
        .number(Decimal(string: "1e30")!), .number(Decimal(string: "0.000001")!), .string(""),
        .string(String(String.UnicodeScalarView((0..<0x20).compactMap(Unicode.Scalar.init)))),
        .string(#"quote " backslash \ slash / del \#u{7f} line \#u{2028} é 😀"#),
        .array([]), .object([:]),
        .object(["b": .number(1), "a10": .null, "a2": .array([.string("x"), .object(["Z": .bool(true), "_": .number(2)])]),
                 "B": .string("w"), "é": .object([:]), "delivery": .string("webhook-01j")]),
    ]

    @Test("jsonText is JSONEncoder's text (keys sorted, slashes unescaped), and JSONDecoder reads it back", arguments: values)
    func sameAsEncoder(_ value: JSONValue) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        #expect(value.jsonText == String(decoding: try encoder.encode(value), as: UTF8.self))
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(value.jsonText.utf8)) == value)
    }
}
