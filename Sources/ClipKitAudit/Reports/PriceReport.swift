import Foundation

/// `clipkit prices`: the price book as a table or JSON.
public enum PriceReport {
    /// The rules as aligned text, one per line.
    public static func table(_ book: PriceBook) -> String {
        var table = TextTable()
        table.add(["provider", "model", "tier", "price", "rules", "audio", "source"])
        for rule in book.rules {
            table.add([
                rule.provider, rule.model, rule.tier?.rawValue ?? "any", rule.priceText, rule.rulesText,
                rule.audio.rawValue, rule.source ?? "",
            ])
        }
        return table.render() + "\n"
    }

    /// The rules as `{"rules": [ … ]}`, the same form a price file takes (`PriceBook.merging(contentsOf:)`).
    public static func json(_ book: PriceBook) -> String {
        var rules: [JSONRule] = []
        for rule in book.rules { rules.append(JSONRule(rule)) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(["rules": rules]) else { return "{}\n" }
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// A rule with its amounts as strings, as a price file writes them.
    private struct JSONRule: Encodable {
        var provider: String
        var model: String
        var tier: String?
        var currency: String
        var unit: String
        var price: String?
        var clipSeconds: String?
        var minimumSeconds: String?
        var incrementSeconds: String?
        var scale: Int
        var rounding: String
        var audio: String
        var source: String?

        init(_ rule: PriceRule) {
            func text(_ value: Decimal?) -> String? {
                value.map { $0.plainText }
            }
            provider = rule.provider
            model = rule.model
            tier = rule.tier?.rawValue
            currency = rule.currency
            unit = rule.unit.rawValue
            price = rule.price.map {
                Money.format($0, digits: max(Money.minorUnitDigits(rule.currency), $0.significantFractionDigits))
            }
            clipSeconds = text(rule.clipSeconds)
            minimumSeconds = text(rule.minimumSeconds)
            incrementSeconds = text(rule.incrementSeconds)
            scale = rule.scale ?? Money.minorUnitDigits(rule.currency)
            rounding = rule.rounding.rawValue
            audio = rule.audio.rawValue
            source = rule.source
        }

        func encode(to encoder: Encoder) throws {
            // Explicit nulls would read as "clear this field" when the output is fed back as a price file.
            enum Key: String, CodingKey {
                case provider, model, tier, currency, unit, price, clipSeconds, minimumSeconds, incrementSeconds, scale
                case rounding, audio, source
            }
            var c = encoder.container(keyedBy: Key.self)
            try c.encode(provider, forKey: .provider)
            try c.encode(model, forKey: .model)
            try c.encodeIfPresent(tier, forKey: .tier)
            try c.encode(currency, forKey: .currency)
            try c.encode(unit, forKey: .unit)
            try c.encodeIfPresent(price, forKey: .price)
            try c.encodeIfPresent(clipSeconds, forKey: .clipSeconds)
            try c.encodeIfPresent(minimumSeconds, forKey: .minimumSeconds)
            try c.encodeIfPresent(incrementSeconds, forKey: .incrementSeconds)
            try c.encode(scale, forKey: .scale)
            try c.encode(rounding, forKey: .rounding)
            try c.encode(audio, forKey: .audio)
            try c.encodeIfPresent(source, forKey: .source)
        }
    }
}
