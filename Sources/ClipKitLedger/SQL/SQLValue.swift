import ClipKitAudit
import ClipKitCore
import Foundation

/// A value bound to, or read from, a statement: the few kinds the ledger stores. Each driver maps them
/// to its own types, so the SQL above the drivers is the same for SQLite and PostgreSQL.
enum SQLValue: Sendable, Hashable {
    case null
    case int(Int64)
    case text(String)
    case bool(Bool)
    /// An instant to the microsecond. SQLite: integer microseconds since 1970; PostgreSQL: TIMESTAMPTZ.
    case date(Date)
    /// An exact amount. SQLite: decimal text; PostgreSQL: NUMERIC, sent and read as digits, never a float.
    case decimal(Decimal)
    /// JSON text. SQLite: TEXT; PostgreSQL: JSONB.
    case json(String)

    /// What a parameter holds, for statements prepared with declared types.
    enum Kind: Sendable { case int, text, bool, date, decimal, json }

    init(_ value: String?) { self = value.map(SQLValue.text) ?? .null }
    init(_ value: Int?) { self = value.map { .int(Int64($0)) } ?? .null }
    init(_ value: Int64?) { self = value.map(SQLValue.int) ?? .null }
    init(_ value: Bool?) { self = value.map(SQLValue.bool) ?? .null }
    init(_ value: Date?) { self = value.map(SQLValue.date) ?? .null }
    init(_ value: Decimal?) { self = value.map(SQLValue.decimal) ?? .null }

    /// A JSON value as JSON text, keys sorted so equal values are equal text.
    init(json value: JSONValue?) { self = value.map { .json($0.jsonText) } ?? .null }
}

/// The ledger's one way of turning values into JSON text and back.
enum JSONText {
    static func encode(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, from text: String) throws -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(type, from: Data(text.utf8))
    }
}

extension Date {
    /// Whole microseconds since 1970, the resolution both stores keep.
    var ledgerMicroseconds: Int64 { Int64((timeIntervalSince1970 * 1_000_000).rounded()) }

    /// The instant `microseconds` after 1970. Every date the ledger returns is built here, so a date
    /// written and read back compares equal.
    init(ledgerMicroseconds microseconds: Int64) {
        self.init(timeIntervalSince1970: Double(microseconds) / 1_000_000)
    }

    /// This date rounded to the microsecond, as the ledger stores it.
    public var roundedToLedgerResolution: Date { Date(ledgerMicroseconds: ledgerMicroseconds) }
}
