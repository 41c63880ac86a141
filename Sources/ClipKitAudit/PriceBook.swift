import ClipKitCore
import Foundation

/// Every price the audit knows: the built-in public prices plus whatever a price file adds or
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
}
