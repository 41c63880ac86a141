import ClipKitAudit
import ClipKitCore
import Foundation
import Testing

@Suite struct PriceBookTests {
    let book = PriceBook.builtIn

    func charge(_ provider: String, _ model: String, _ tier: Tier?, seconds: Decimal?) -> Money? {
        book.rule(provider: provider, model: model, tier: tier)?.charge(seconds: seconds)
    }

    @Test func dashScopeBillsPerSecondOfOutput() {
        #expect(charge("dashscope", "wan2.2-t2v-plus", .p480, seconds: 5) == cny("0.70"))
        #expect(charge("dashscope", "wan2.2-t2v-plus", .p1080, seconds: 5) == cny("3.50"))
        #expect(charge("dashscope", "wan2.5-i2v-preview", .p720, seconds: 10) == cny("6.00"))
        #expect(charge("dashscope", "wan2.2-i2v-flash", .p1080, seconds: 5) == cny("2.40"))
        #expect(charge("dashscope", "wan2.2-kf2v-flash", .p720, seconds: 5) == cny("1.00"))
        // wan2.2-t2v-plus has no 720P price.
        #expect(book.rule(provider: "dashscope", model: "wan2.2-t2v-plus", tier: .p720) == nil)
    }

    @Test func dashScopeBillsFractionalSecondsAndRoundsHalfUp() {
        // s2v bills 10.23 s: 10.23 × 0.50 = 5.115 → 5.12 CNY.
        #expect(charge("dashscope", "wan2.2-s2v", .p480, seconds: Decimal(string: "10.23")!) == cny("5.12"))
        #expect(charge("dashscope", "wan2.2-s2v", .p720, seconds: Decimal(string: "10.23")!) == cny("9.21"))
        var rule = book.rule(provider: "dashscope", model: "wan2.2-s2v", tier: .p480)!
        rule.rounding = .down
        #expect(rule.charge(seconds: Decimal(string: "10.23")!) == cny("5.11"))
        rule.rounding = .halfEven
        #expect(rule.charge(seconds: Decimal(string: "10.25")!) == cny("5.12"))  // 5.125 → 5.12
    }

    @Test func waveSpeedChargesWholeClipsWithAFiveSecondMinimum() {
        let model = "alibaba/wan-2.2/i2v-plus-480p"
        // "Minimum charge = 5 seconds (one clip); no partial billing; total = clips × $0.20."
        #expect(charge("wavespeed", model, .p480, seconds: 3) == usd("0.20"))
        #expect(charge("wavespeed", model, .p480, seconds: 5) == usd("0.20"))
        #expect(charge("wavespeed", model, .p480, seconds: Decimal(string: "5.5")!) == usd("0.40"))
        #expect(charge("wavespeed", model, .p480, seconds: nil) == usd("0.20"))  // one nominal clip
        #expect(charge("wavespeed", "alibaba/wan-2.2/t2v-plus-480p", .p480, seconds: 5) == usd("0.05"))
        #expect(book.rule(provider: "wavespeed", model: model, tier: .p480)?.billableSeconds(2) == 5)
    }

    @Test func waveSpeedImageToVideoMatchesItsPublishedClipPrices() {
        let model = "wavespeed-ai/wan-2.2/image-to-video"
        #expect(charge("wavespeed", model, .p480, seconds: 5) == usd("0.15"))
        #expect(charge("wavespeed", model, .p720, seconds: 5) == usd("0.30"))
        #expect(charge("wavespeed", model, .p480, seconds: 8) == usd("0.24"))
        #expect(charge("wavespeed", model, .p720, seconds: 8) == usd("0.48"))
        #expect(charge("wavespeed", model, .p480, seconds: 2) == usd("0.15"))  // minimum 5 s
    }

    @Test func modelVerseIsAContractPriceUntilSet() {
        let rule = book.rule(provider: "modelverse", model: "Wan-AI/Wan2.2-I2V", tier: .p480)
        #expect(rule != nil)
        #expect(rule?.price == nil)
        #expect(rule?.charge(seconds: 5) == nil)
        #expect(rule?.priceText.contains("contract") == true)
    }

    @Test func lookupFallsBackByModelAndSingleTier() {
        // A router speaking the DashScope protocol, unknown to the book, gets DashScope's prices.
        #expect(
            book.rule(provider: "crazyrouter", model: "wan2.2-t2v-plus", tier: .p480)?.price == Decimal(string: "0.14"))
        // Model names are matched case-insensitively; a single-tier model needs no tier.
        #expect(book.rule(provider: nil, model: "ALIBABA/WAN-2.2/I2V-PLUS-480P", tier: nil)?.tier == .p480)
        #expect(book.rule(provider: "dashscope", model: "wan2.2-t2v-plus", tier: nil) == nil)  // two tiers
        #expect(book.provider(ofModel: "wan2.2-s2v") == "dashscope")
    }

    @Test func priceFileOverridesAndExtends() throws {
        let file = try temporaryFile(
            """
            {"rules": [
              {"provider": "modelverse", "model": "Wan-AI/Wan2.2-I2V", "tier": "480P", "price": "0.60"},
              {"provider": "dashscope", "model": "wan2.2-t2v-plus", "tier": "480P", "price": 0.12},
              {"provider": "acme", "model": "wan-2.5-fast", "tier": "720P", "currency": "usd", "unit": "clip",
               "price": "0.35", "clipSeconds": 5, "minimumSeconds": 5, "incrementSeconds": 5, "audio": "expected"}
            ]}
            """, ext: "json")
        let merged = try book.merging(contentsOf: file)
        #expect(
            merged.rule(provider: "modelverse", model: "Wan-AI/Wan2.2-I2V", tier: .p480)?.charge(seconds: nil)
                == cny("0.60"))
        // The override keeps the built-in rule's other fields (CNY, per second).
        #expect(
            merged.rule(provider: "dashscope", model: "wan2.2-t2v-plus", tier: .p480)?.charge(seconds: 5) == cny("0.60")
        )
        #expect(merged.rule(provider: "acme", model: "wan-2.5-fast", tier: .p720)?.charge(seconds: 7) == usd("0.70"))
        #expect(merged.rules.count == book.rules.count + 1)
    }

    @Test func badPriceFileNamesFileAndLine() throws {
        let file = try temporaryFile(
            """
            {
              "rules": [
                {"provider": "dashscope", "model": "wan2.2-t2v-plus", "tier": "480P", "price": "0.12"},
                {"provider": "acme", "model": "new-model", "price": "0.35"}
              ]
            }
            """, ext: "json")
        #expect {
            try book.merging(contentsOf: file)
        } throws: { error in
            let error = error as? PriceBookError
            return error?.line == 4 && error?.file == file && error?.message.contains("currency") == true
        }
        let broken = try temporaryFile("{\"rules\": [\n  {\"provider\": \"x\",,}\n]}", ext: "json")
        #expect(throws: PriceBookError.self) { try book.merging(contentsOf: broken) }
        #expect(throws: PriceBookError.self) { try book.merging(contentsOf: "/nonexistent/prices.json") }
    }

    @Test func pricesJSONReadsBackAsAPriceFile() throws {
        // `clipkit prices --format json` output is a valid --prices file that changes nothing.
        let file = try temporaryFile(PriceReport.json(book), ext: "json")
        let again = try book.merging(contentsOf: file)
        #expect(again.rules.count == book.rules.count)
        for rule in book.rules {
            let same = again.rule(provider: rule.provider, model: rule.model, tier: rule.tier)
            #expect(same?.charge(seconds: 7) == rule.charge(seconds: 7))
            #expect(same?.audio == rule.audio)
        }
    }
}

/// Writes `text` to a new temporary file and returns its path.
func temporaryFile(_ text: String, ext: String, name: String = UUID().uuidString) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(name).\(ext)").path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}
