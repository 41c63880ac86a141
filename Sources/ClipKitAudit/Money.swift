import Foundation

/// An amount of money in one currency. The amount is a `Decimal`, never a floating-point number:
/// 0.14 CNY × 5 s must be exactly 0.70 CNY, and a bill is compared to the cent.
public struct Money: Sendable, Hashable, Codable, CustomStringConvertible {
    public var amount: Decimal
    /// ISO 4217 code, upper case: "CNY", "USD".
    public var currency: String

    public init(_ amount: Decimal, _ currency: String) {
        self.amount = amount
        self.currency = currency.uppercased()
    }

    /// Parses an amount such as "0.70", "¥0.70" or "$1.5" strictly: no thousands separators, no
    /// trailing text. Returns nil when the text is not an amount.
    public init?(parsing text: String, currency: String) {
        guard let amount = Money.parseAmount(text) else { return nil }
        self.init(amount, currency)
    }

    public static func zero(_ currency: String) -> Money { Money(0, currency) }

    /// The sum of `amounts` per currency, currencies in order.
    public static func totals(_ amounts: [Money]) -> [Money] {
        Dictionary(grouping: amounts, by: \.currency).sorted { $0.key < $1.key }
            .map { currency, amounts in amounts.reduce(Money.zero(currency), +) }
    }

    public var isZero: Bool { amount.isZero }
    public var isPositive: Bool { amount > 0 }

    /// Digits after the decimal point of the currency's minor unit (2 for CNY and USD, 0 for JPY).
    public static func minorUnitDigits(_ currency: String) -> Int {
        switch currency.uppercased() {
        case "JPY", "KRW", "VND", "CLP", "ISK": 0
        case "BHD", "KWD", "OMR", "JOD", "TND": 3
        default: 2
        }
    }

    /// The amount rounded to `scale` digits after the point (default: the currency's minor unit).
    public func rounded(scale: Int? = nil, _ mode: Rounding = .halfUp) -> Money {
        Money(mode.round(amount, scale: scale ?? Money.minorUnitDigits(currency)), currency)
    }

    /// The amount as text with the currency's minor-unit digits: "0.70", "5.12", "-1.40".
    public var amountText: String { Money.format(amount, digits: Money.minorUnitDigits(currency)) }

    /// "0.70 CNY".
    public var description: String { "\(amountText) \(currency)" }

    public static func + (a: Money, b: Money) -> Money {
        precondition(a.currency == b.currency, "cannot add \(a.currency) to \(b.currency)")
        return Money(a.amount + b.amount, a.currency)
    }

    public static func - (a: Money, b: Money) -> Money {
        precondition(a.currency == b.currency, "cannot subtract \(b.currency) from \(a.currency)")
        return Money(a.amount - b.amount, a.currency)
    }

    public static func * (a: Money, factor: Decimal) -> Money { Money(a.amount * factor, a.currency) }

    public static func += (a: inout Money, b: Money) { a = a + b }

    /// The smaller of two amounts in the same currency.
    public static func min(_ a: Money, _ b: Money) -> Money { a.amount <= b.amount ? a : b }

    /// The larger of two amounts in the same currency.
    public static func max(_ a: Money, _ b: Money) -> Money { a.amount >= b.amount ? a : b }

    // The JSON form keeps the amount as a string so that no reader turns it into a double.
    enum CodingKeys: String, CodingKey { case amount, currency }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let currency = try c.decode(String.self, forKey: .currency)
        if let text = try? c.decode(String.self, forKey: .amount) {
            guard let amount = Money.parseAmount(text) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .amount, in: c, debugDescription: "not an amount: \(text)")
            }
            self.init(amount, currency)
        } else {
            self.init(try c.decode(Decimal.self, forKey: .amount), currency)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(amountText, forKey: .amount)
        try c.encode(currency, forKey: .currency)
    }

    /// Strictly parses a decimal number, allowing a leading currency symbol: "0.70", "-1", "¥5.12", "1e2".
    public static func parseAmount(_ text: String) -> Decimal? {
        var body = Substring(text.trimmedSpaces)
        if let first = body.first, "¥￥$€£".contains(first) { body = body.dropFirst() }
        return parseDecimal(String(body))
    }

    /// Strictly parses a decimal number: an optional sign, digits, an optional fraction and exponent.
    public static func parseDecimal(_ text: String) -> Decimal? {
        let trimmed = text.trimmedSpaces
        var bytes = Substring(trimmed).utf8[...]
        if bytes.first == UInt8(ascii: "-") || bytes.first == UInt8(ascii: "+") { bytes = bytes.dropFirst() }
        func digits() -> Int {
            let count = bytes.prefix { $0 >= 48 && $0 <= 57 }.count
            bytes = bytes.dropFirst(count)
            return count
        }
        var count = digits()
        if bytes.first == UInt8(ascii: ".") {
            bytes = bytes.dropFirst()
            count += digits()
        }
        guard count > 0 else { return nil }
        if bytes.first == UInt8(ascii: "e") || bytes.first == UInt8(ascii: "E") {
            bytes = bytes.dropFirst()
            if bytes.first == UInt8(ascii: "-") || bytes.first == UInt8(ascii: "+") { bytes = bytes.dropFirst() }
            guard digits() > 0 else { return nil }
        }
        guard bytes.isEmpty else { return nil }
        return Decimal(string: trimmed, locale: Decimal.posix)
    }

    /// `value` rounded half-up to `digits` and written with exactly that many fraction digits.
    static func format(_ value: Decimal, digits: Int) -> String {
        let rounded = Rounding.halfUp.round(value, scale: digits)
        var text = rounded.plainText
        guard digits > 0 else { return text }
        if let dot = text.firstIndex(of: ".") {
            let have = text.distance(from: text.index(after: dot), to: text.endIndex)
            text += String(repeating: "0", count: Swift.max(0, digits - have))
        } else {
            text += "." + String(repeating: "0", count: digits)
        }
        return text
    }
}

/// How an amount is rounded to its final digits.
public enum Rounding: String, Sendable, Hashable, Codable, CaseIterable {
    /// 5.115 → 5.12, −5.115 → −5.12 (away from zero at the half).
    case halfUp
    /// Banker's rounding: 5.125 → 5.12, 5.135 → 5.14.
    case halfEven
    /// Always away from zero: 5.111 → 5.12.
    case up
    /// Always toward zero (truncation): 5.119 → 5.11.
    case down

    /// `value` rounded to `scale` digits after the point.
    public func round(_ value: Decimal, scale: Int) -> Decimal {
        var input = value
        var result = Decimal()
        let mode: NSDecimalNumber.RoundingMode
        switch self {
        case .halfUp: mode = .plain
        case .halfEven: mode = .bankers
        case .up: mode = value < 0 ? .down : .up
        case .down: mode = value < 0 ? .up : .down
        }
        NSDecimalRound(&result, &input, scale, mode)
        return result
    }
}

extension Decimal {
    /// The smallest integer not less than the value (seconds and clip counts round up: "no partial billing").
    var ceiling: Decimal {
        var input = self
        var result = Decimal()
        NSDecimalRound(&result, &input, 0, .up)
        return result
    }

    /// The value converted for display or a chart axis; never used for money.
    var doubleValue: Double { NSDecimalNumber(decimal: self).doubleValue }
}

extension Decimal {
    /// The locale whose decimal point is ".", for reading and writing numbers in files.
    static let posix = Locale(identifier: "en_US_POSIX")

    /// The number as plain text with "." as the point, whatever the process locale: "5.115", "-1.4".
    var plainText: String { description }
}
