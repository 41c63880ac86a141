import ClipKitCore
import Foundation

/// A price file that could not be read, with the file and line at fault.
public struct PriceBookError: ClipKitError {
    /// What went wrong, for a program to switch on.
    public enum Code: String, Sendable, Hashable, Codable, CaseIterable {
        /// The file does not exist or cannot be read.
        case unreadable
        /// It is not valid JSON.
        case invalidJSON
        /// It is JSON but not `{"rules": [ … ]}` or an array of rules.
        case notPriceFile
        /// A rule lacks a field or has a bad value.
        case invalidRule
    }

    public var code: Code
    public var file: String
    /// The line at fault; 0 when the file could not be read at all.
    public var line: Int
    public var message: String

    public init(_ code: Code, file: String, line: Int, message: String) {
        self.code = code
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String { line > 0 ? "price file \(file):\(line): \(message)" : "price file \(file): \(message)" }
}

extension PriceBook {
    /// This book with the rules of a JSON price file applied on top.
    ///
    /// The file holds `{"rules": [ … ]}` or a bare array. Each rule names `provider`, `model` and
    /// optionally `tier`; a rule matching a built-in one may give only the fields it changes, a new one
    /// needs `currency`, `unit` and `price`. Amounts may be strings or numbers (`"0.14"` or `0.14`).
    /// - Throws: `PriceBookError` naming the file and line of the first bad rule.
    public func merging(contentsOf path: String) throws -> PriceBook {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PriceBookError(.unreadable, file: path, line: 0, message: "cannot read it")
        }
        var reader = JSONReader(data)
        var items: [(line: Int, value: JSONValue)] = []
        do {
            // A bare array yields its rules one by one; an object yields itself.
            while let item = try reader.nextRecord() {
                if let rules = item.value["rules"]?.arrayValue {
                    let lines = reader.lineIndex.elementLines["rules"] ?? []
                    for (index, rule) in rules.enumerated() { items.append((lines[safe: index] ?? item.line, rule)) }
                } else if item.value["provider"] != nil {
                    items.append(item)
                } else {
                    throw PriceBookError(
                        .notPriceFile, file: path, line: item.line,
                        message: #"expected {"rules": [ … ]} or an array of rules"#)
                }
            }
        } catch let error as JSONSyntaxError {
            throw PriceBookError(.invalidJSON, file: path, line: error.line, message: "not valid JSON: \(error.message)")
        }
        var book = self
        for (index, item) in items.enumerated() {
            do {
                book.set(try book.decodeRule(item.value))
            } catch let message as RuleError {
                throw PriceBookError(.invalidRule, file: path, line: item.line, message: "rule \(index + 1): \(message.text)")
            }
        }
        return book
    }

    private struct RuleError: Error { var text: String }

    private func decodeRule(_ value: JSONValue) throws -> PriceRule {
        guard value.objectValue != nil else { throw RuleError(text: "a rule must be an object") }
        guard let provider = value["provider"]?.stringValue, !provider.isEmpty else {
            throw RuleError(text: "missing \"provider\"")
        }
        guard let model = value["model"]?.stringValue, !model.isEmpty else {
            throw RuleError(text: "missing \"model\"")
        }
        var tier: Tier?
        if let text = value["tier"]?.stringValue ?? value["resolution"]?.stringValue {
            guard let parsed = Tier(parsing: text) else { throw RuleError(text: "unknown tier \"\(text)\"") }
            tier = parsed
        }
        let existing = rules.first {
            $0.provider == provider.lowercased() && $0.model.caseInsensitiveCompare(model) == .orderedSame
                && $0.tier == tier
        }
        func decimal(_ key: String) throws -> Decimal?? {
            guard let raw = value[key] else { return .none }
            if raw.isNull { return .some(nil) }
            guard let number = raw.decimalValue ?? raw.stringValue.flatMap(Money.parseAmount) else {
                throw RuleError(text: "\"\(key)\" is not a number")
            }
            guard number >= 0 else { throw RuleError(text: "\"\(key)\" is negative") }
            return .some(number)
        }
        guard let currency = value["currency"]?.stringValue ?? existing?.currency else {
            throw RuleError(text: "missing \"currency\" for a new rule")
        }
        let unit: PriceRule.Unit
        if let text = value["unit"]?.stringValue {
            guard let parsed = PriceRule.Unit(rawValue: text) else {
                throw RuleError(text: "\"unit\" must be \"second\" or \"clip\", not \"\(text)\"")
            }
            unit = parsed
        } else if let existing {
            unit = existing.unit
        } else {
            throw RuleError(text: "missing \"unit\" (\"second\" or \"clip\") for a new rule")
        }
        let price = try decimal("price") ?? existing?.price
        if existing == nil && price == nil { throw RuleError(text: "missing \"price\" for a new rule") }
        let clipSeconds = try decimal("clipSeconds") ?? existing?.clipSeconds
        if unit == .clip && clipSeconds == nil { throw RuleError(text: "a per-clip rule needs \"clipSeconds\"") }
        var rounding = existing?.rounding ?? .halfUp
        if let text = value["rounding"]?.stringValue {
            guard let parsed = Rounding(rawValue: text) else {
                throw RuleError(
                    text: "\"rounding\" must be one of \(Rounding.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            rounding = parsed
        }
        var audio = existing?.audio ?? .any
        if let text = value["audio"]?.stringValue {
            guard let parsed = PriceRule.AudioExpectation(rawValue: text) else {
                throw RuleError(text: "\"audio\" must be \"expected\", \"none\", \"any\" or \"input\"")
            }
            audio = parsed
        }
        var scale = existing?.scale
        if let raw = value["scale"] {
            guard let number = raw.decimalValue, let int = Int(exactly: NSDecimalNumber(decimal: number).intValue),
                Decimal(int) == number, (0...8).contains(int)
            else {
                throw RuleError(text: "\"scale\" must be a whole number of digits from 0 to 8")
            }
            scale = int
        }
        return PriceRule(
            provider: provider, model: model, tier: tier, currency: currency, unit: unit, price: price,
            clipSeconds: clipSeconds, minimumSeconds: try decimal("minimumSeconds") ?? existing?.minimumSeconds,
            incrementSeconds: try decimal("incrementSeconds") ?? existing?.incrementSeconds, scale: scale,
            rounding: rounding, audio: audio, source: value["source"]?.stringValue ?? "price file")
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
