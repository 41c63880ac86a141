import ClipKitCore
import Foundation

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

        // ModelVerse publishes no price (seeds/002): a contract price, to be set from a price file.
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
