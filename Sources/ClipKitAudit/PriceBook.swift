import ClipKitCore
import Foundation

/// How one provider charges for one model at one resolution tier.
///
/// Charging a task of `s` seconds: the seconds are raised to `minimumSeconds`, then rounded up to a
/// multiple of `incrementSeconds` ("no partial billing"); a per-second rule charges those seconds ×
/// `price`, a per-clip rule charges ⌈seconds ÷ `clipSeconds`⌉ × `price`; the result is rounded to
/// `scale` digits with `rounding`.
public struct PriceRule: Sendable, Hashable, Codable {
    public enum Unit: String, Sendable, Hashable, Codable {
        /// Price per second of output (DashScope and the routers that speak its protocol).
        case second
        /// Price per clip of `clipSeconds` (WaveSpeed's "$0.20 per 5 seconds").
        case clip
    }

    /// Whether the model's output carries an audio track.
    public enum AudioExpectation: String, Sendable, Hashable, Codable {
        /// Audio on by default (wan2.5 and later).
        case expected
        /// Silent output (wan2.2 t2v/i2v/kf2v).
        case none
        /// Either (s2v follows its input; unknown models).
        case any
    }

    /// Lower-case provider name: `dashscope`, `wavespeed`, `modelverse`, …
    public var provider: String
    public var model: String
    /// The tier this price is for; nil means every tier.
    public var tier: Tier?
    public var currency: String
    public var unit: Unit
    /// Price per unit; nil for a contract price that must come from a `--prices` file.
    public var price: Decimal?
    /// Seconds in one billed clip (per-clip rules); also the nominal clip length when a record states none.
    public var clipSeconds: Decimal?
    /// Seconds charged at least, whatever was delivered.
    public var minimumSeconds: Decimal?
    /// Billed seconds are rounded up to a multiple of this; nil bills fractional seconds.
    public var incrementSeconds: Decimal?
    /// Digits the final amount is rounded to; nil means the currency's minor unit.
    public var scale: Int?
    public var rounding: Rounding
    public var audio: AudioExpectation
    /// Where the price comes from.
    public var source: String?

    public init(
        provider: String, model: String, tier: Tier?, currency: String, unit: Unit, price: Decimal?,
        clipSeconds: Decimal? = nil, minimumSeconds: Decimal? = nil, incrementSeconds: Decimal? = nil,
        scale: Int? = nil, rounding: Rounding = .halfUp, audio: AudioExpectation = .any, source: String? = nil
    ) {
        self.provider = provider.lowercased()
        self.model = model
        self.tier = tier
        self.currency = currency.uppercased()
        self.unit = unit
        self.price = price
        self.clipSeconds = clipSeconds
        self.minimumSeconds = minimumSeconds
        self.incrementSeconds = incrementSeconds
        self.scale = scale
        self.rounding = rounding
        self.audio = audio
        self.source = source
    }

    /// The seconds a task of `seconds` is billed for, after the minimum and the increment.
    public func billableSeconds(_ seconds: Decimal) -> Decimal {
        var billed = Swift.max(seconds, minimumSeconds ?? 0)
        if let step = incrementSeconds, step > 0 {
            billed = (billed / step).ceiling * step
        }
        return billed
    }

    /// What a task of `seconds` costs under this rule; with nil seconds, one nominal clip.
    /// Returns nil when the price is a contract price not yet set, or the seconds cannot be known.
    public func charge(seconds: Decimal?) -> Money? {
        guard let price else { return nil }
        guard let seconds = seconds ?? clipSeconds ?? minimumSeconds else { return nil }
        let billed = billableSeconds(seconds)
        let raw: Decimal
        switch unit {
        case .second:
            raw = billed * price
        case .clip:
            guard let clip = clipSeconds, clip > 0 else { return Money(price, currency) }
            raw = Swift.max(1, (billed / clip).ceiling) * price
        }
        return Money(raw, currency).rounded(scale: scale, rounding)
    }

    /// "0.14 CNY/s", "0.20 USD per 5 s clip", "contract".
    public var priceText: String {
        guard let price else { return "contract (set with --prices)" }
        let amount = Money.format(
            price, digits: Swift.max(Money.minorUnitDigits(currency), price.significantFractionDigits))
        switch unit {
        case .second: return "\(amount) \(currency)/s"
        case .clip: return "\(amount) \(currency) per \(clipSeconds.map { "\($0) s " } ?? "")clip"
        }
    }

    /// The billing rules in words: "min 5 s, whole 5 s steps".
    public var rulesText: String {
        var parts: [String] = []
        if let minimum = minimumSeconds { parts.append("min \(minimum) s") }
        if let step = incrementSeconds { parts.append("billed in whole \(step) s") }
        if incrementSeconds == nil && unit == .second { parts.append("fractional seconds") }
        parts.append("round \(rounding.rawValue) to \(scale ?? Money.minorUnitDigits(currency)) digits")
        return parts.joined(separator: ", ")
    }
}

extension Decimal {
    /// Digits after the point that are not trailing zeros: 0.030 → 2, 0.5 → 1.
    var significantFractionDigits: Int {
        let text = self.plainText
        guard let dot = text.firstIndex(of: ".") else { return 0 }
        return text.distance(from: text.index(after: dot), to: text.endIndex)
    }
}

/// A price file that could not be read, with the file and line at fault.
public struct PriceBookError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var line: Int
    public var message: String

    public var description: String { "\(file):\(line): \(message)" }
}

/// Every price the audit knows: the built-in public prices plus whatever a `--prices` file adds or
/// overrides (contract prices, new models). Looked up by provider, model and tier.
public struct PriceBook: Sendable {
    public private(set) var rules: [PriceRule]
    /// Rules by lower-cased model name: the audit looks a price up for every task.
    private var byModel: [String: [PriceRule]] = [:]

    public init(rules: [PriceRule]) {
        self.rules = []
        for rule in rules { set(rule) }
    }

    /// The public prices from providers.md and the seed pages.
    public static let builtIn = PriceBook(rules: BuiltInPrices.rules)

    /// The rule for `model` at `tier`. A rule of the same provider wins; a record from an unnamed
    /// provider or a router (same model names, DashScope protocol) falls back to the model's only provider.
    /// A rule without a tier applies to every tier. With `tier` nil, a model priced at one tier only gets that rule.
    public func rule(provider: String?, model: String, tier: Tier?) -> PriceRule? {
        let candidates = rules(provider: provider, model: model)
        if Set(candidates.map(\.provider)).count > 1 { return nil }
        if let tier {
            return candidates.first { $0.tier == tier } ?? candidates.first { $0.tier == nil }
        }
        return candidates.count == 1 ? candidates[0] : nil
    }

    /// All rules for a model (every tier), of the given provider when it has any.
    public func rules(provider: String?, model: String) -> [PriceRule] {
        let all = byModel[model.lowercased()] ?? []
        if let provider = provider?.lowercased(), all.contains(where: { $0.provider == provider }) {
            return all.filter { $0.provider == provider }
        }
        return all
    }

    /// The provider that sells `model`, when exactly one does.
    public func provider(ofModel model: String) -> String? {
        let providers = Set(rules(provider: nil, model: model).map(\.provider))
        return providers.count == 1 ? providers.first : nil
    }

    /// Adds `rule`, replacing any rule for the same provider, model and tier.
    public mutating func set(_ rule: PriceRule) {
        if let index = rules.firstIndex(where: { $0.sameKey(as: rule) }) {
            rules[index] = rule
        } else {
            rules.append(rule)
        }
        let key = rule.model.lowercased()
        byModel[key] = rules.filter { $0.model.lowercased() == key }
    }

    /// This book with the rules of a JSON price file applied on top.
    ///
    /// The file holds `{"rules": [ … ]}` or a bare array. Each rule names `provider`, `model` and
    /// optionally `tier`; a rule matching a built-in one may give only the fields it changes, a new one
    /// needs `currency`, `unit` and `price`. Amounts may be strings or numbers (`"0.14"` or `0.14`).
    /// - Throws: `PriceBookError` naming the file and line of the first bad rule.
    public func merging(contentsOf path: String) throws -> PriceBook {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PriceBookError(file: path, line: 0, message: "cannot read the price file")
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
                        file: path, line: item.line,
                        message: #"expected {"rules": [ … ]} or an array of rules"#)
                }
            }
        } catch let error as JSONSyntaxError {
            throw PriceBookError(file: path, line: error.line, message: "not valid JSON: \(error.message)")
        }
        var book = self
        for (index, item) in items.enumerated() {
            do {
                book.set(try book.decodeRule(item.value))
            } catch let message as RuleError {
                throw PriceBookError(file: path, line: item.line, message: "rule \(index + 1): \(message.text)")
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
                throw RuleError(text: "\"audio\" must be \"expected\", \"none\" or \"any\"")
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

extension PriceRule {
    func sameKey(as other: PriceRule) -> Bool {
        provider == other.provider && model.caseInsensitiveCompare(other.model) == .orderedSame && tier == other.tier
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}

/// The public prices, as the seed pages and providers.md give them.
enum BuiltInPrices {
    static let dashScopeSource = "seeds/003 (router page listing Bailian official prices)"

    static var rules: [PriceRule] {
        var rules: [PriceRule] = []
        // DashScope / Bailian, CNY per second of output, fractional seconds billed (s2v bills 10.23 s).
        func dashScope(_ models: [String], _ prices: [Tier: String], audio: PriceRule.AudioExpectation) {
            for model in models {
                for tier in Tier.allCases {
                    guard let price = prices[tier] else { continue }
                    rules.append(
                        PriceRule(
                            provider: "dashscope", model: model, tier: tier, currency: "CNY", unit: .second,
                            price: Decimal(string: price)!, audio: audio, source: dashScopeSource))
                }
            }
        }
        dashScope(
            ["wan2.5-t2v-preview", "wan2.5-i2v-preview"], [.p480: "0.30", .p720: "0.60", .p1080: "1.00"],
            audio: .expected)
        dashScope(["wan2.2-t2v-plus", "wan2.2-i2v-plus"], [.p480: "0.14", .p1080: "0.70"], audio: .none)
        dashScope(
            ["wan2.2-i2v-flash", "wan2.2-kf2v-flash"], [.p480: "0.10", .p720: "0.20", .p1080: "0.48"], audio: .none)
        dashScope(["wan2.2-s2v"], [.p480: "0.50", .p720: "0.90"], audio: .any)

        // WaveSpeed, USD. i2v-plus-480p: "$0.20 per 5 s clip, minimum charge 5 s, no partial billing".
        rules.append(
            PriceRule(
                provider: "wavespeed", model: "alibaba/wan-2.2/i2v-plus-480p", tier: .p480, currency: "USD",
                unit: .clip,
                price: Decimal(string: "0.20")!, clipSeconds: 5, minimumSeconds: 5, incrementSeconds: 5, audio: .none,
                source: "seeds/000 (WaveSpeed page: $0.20 per clip, minimum 5 s, no partial billing)"))
        // t2v-plus-480p: "$0.05 per 5 seconds"; duration is fixed at 5, so the same clip rules apply.
        rules.append(
            PriceRule(
                provider: "wavespeed", model: "alibaba/wan-2.2/t2v-plus-480p", tier: .p480, currency: "USD",
                unit: .clip,
                price: Decimal(string: "0.05")!, clipSeconds: 5, minimumSeconds: 5, incrementSeconds: 5, audio: .none,
                source: "seeds/001 (WaveSpeed page: $0.05 per 5 s)"))
        // wan-2.2/image-to-video: $0.15 / $0.30 for 5 s, $0.24 / $0.48 for 8 s at 480p / 720p, i.e.
        // $0.03 / $0.06 per second with 5 s the shortest clip.
        for (tier, price) in [(Tier.p480, "0.03"), (.p720, "0.06")] {
            rules.append(
                PriceRule(
                    provider: "wavespeed", model: "wavespeed-ai/wan-2.2/image-to-video", tier: tier, currency: "USD",
                    unit: .second, price: Decimal(string: price)!, minimumSeconds: 5, incrementSeconds: 1, audio: .none,
                    source: "providers.md ($0.15/$0.30 per 5 s, $0.24/$0.48 per 8 s)"))
        }

        // ModelVerse publishes no price (seeds/002): a contract price, to be set with --prices.
        for tier in [Tier.p480, .p720] {
            rules.append(
                PriceRule(
                    provider: "modelverse", model: "Wan-AI/Wan2.2-I2V", tier: tier, currency: "CNY", unit: .clip,
                    price: nil, clipSeconds: 5, audio: .none,
                    source: "seeds/002 (no public price: contract price)"))
        }
        return rules
    }
}
