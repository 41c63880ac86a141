import ClipKitCore
import Foundation

/// How one provider charges for one model at one resolution tier.
///
/// Charging a task of `s` seconds: the seconds are raised to `minimumSeconds`, then rounded up to a
/// multiple of `incrementSeconds` ("no partial billing"); a per-second rule charges those seconds ×
/// `price`, a per-clip rule charges ⌈seconds ÷ `clipSeconds`⌉ × `price`; the result is rounded to
/// `scale` digits with `rounding`.
public struct PriceRule: Sendable, Hashable, Codable {
    /// What one `price` pays for.
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
        /// Either (unknown models).
        case any
        /// The input's sound (s2v: the voice sent): present, and as long as the video. A clip without it
        /// is not what was billed.
        case input
    }

    /// Lower-case provider name: `dashscope`, `wavespeed`, `modelverse`, …
    public var provider: String
    public var model: String
    /// The tier this price is for; nil means every tier.
    public var tier: Tier?
    public var currency: String
    public var unit: Unit
    /// Price per unit; nil for a contract price that must come from a price file.
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
        guard let price else { return "contract (no public price)" }
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

extension PriceRule {
    func sameKey(as other: PriceRule) -> Bool {
        provider == other.provider && model.caseInsensitiveCompare(other.model) == .orderedSame && tier == other.tier
    }
}
