import ClipKitAudit
import ClipKitCore
import Foundation

/// One result row, by column name, with typed readers that accept what either driver returns for a
/// column (SQLite keeps dates as integers and amounts as text).
struct SQLRow: Sendable {
    let values: [String: SQLValue]

    subscript(column: String) -> SQLValue { values[column] ?? .null }

    func isNull(_ column: String) -> Bool { self[column] == .null }

    func string(_ column: String) throws -> String { try required(column, optionalString) }

    func optionalString(_ column: String) throws -> String? {
        switch self[column] {
        case .null: return nil
        case .text(let text), .json(let text): return text
        default: throw corrupt(column, "text")
        }
    }

    func int(_ column: String) throws -> Int { Int(try required(column, optionalInt64)) }

    func optionalInt(_ column: String) throws -> Int? { try optionalInt64(column).map(Int.init) }

    func int64(_ column: String) throws -> Int64 { try required(column, optionalInt64) }

    func optionalInt64(_ column: String) throws -> Int64? {
        switch self[column] {
        case .null: return nil
        case .int(let value): return value
        default: throw corrupt(column, "an integer")
        }
    }

    func bool(_ column: String) throws -> Bool { try required(column, optionalBool) }

    func optionalBool(_ column: String) throws -> Bool? {
        switch self[column] {
        case .null: return nil
        case .bool(let value): return value
        case .int(let value): return value != 0
        default: throw corrupt(column, "a boolean")
        }
    }

    func date(_ column: String) throws -> Date { try required(column, optionalDate) }

    func optionalDate(_ column: String) throws -> Date? {
        switch self[column] {
        case .null: return nil
        case .date(let value): return value
        case .int(let microseconds): return Date(ledgerMicroseconds: microseconds)
        default: throw corrupt(column, "a time")
        }
    }

    func optionalDecimal(_ column: String) throws -> Decimal? {
        switch self[column] {
        case .null: return nil
        case .decimal(let value): return value
        case .text(let text):
            guard let value = Money.parseDecimal(text) else { throw corrupt(column, "an exact amount") }
            return value
        default: throw corrupt(column, "an exact amount")
        }
    }

    func decimal(_ column: String) throws -> Decimal { try required(column, optionalDecimal) }

    /// An amount stored as two columns: `PREFIX_amount` and `PREFIX_currency`.
    func optionalMoney(_ prefix: String) throws -> Money? {
        guard let amount = try optionalDecimal("\(prefix)_amount") else { return nil }
        return Money(amount, try string("\(prefix)_currency"))
    }

    func json(_ column: String) throws -> JSONValue { try required(column, optionalJSON) }

    func optionalJSON(_ column: String) throws -> JSONValue? {
        guard let text = try optionalString(column) else { return nil }
        do {
            return try JSONValue(parsing: text.utf8)
        } catch {
            throw corrupt(column, "JSON (\(error))")
        }
    }

    func optionalDecoded<T: Decodable>(_ type: T.Type, _ column: String) throws -> T? {
        guard let text = try optionalString(column) else { return nil }
        do {
            return try JSONText.decode(type, from: text)
        } catch {
            throw corrupt(column, "JSON (\(error))")
        }
    }

    /// The value `read` finds in `column`, which must not be NULL.
    private func required<T>(_ column: String, _ read: (String) throws -> T?) throws -> T {
        guard let value = try read(column) else {
            throw LedgerError(.corruptRecord, "column \(column) is empty where a value is required")
        }
        return value
    }

    private func corrupt(_ column: String, _ expected: String) -> LedgerError {
        LedgerError(.corruptRecord, "column \(column) holds \(self[column]) where \(expected) was expected")
    }
}
