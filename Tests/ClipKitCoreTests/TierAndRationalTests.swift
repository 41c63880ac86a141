import ClipKitCore
import Foundation
import Testing

@Suite("tiers by pixel area, and exact rationals")
struct TierAndRationalTests {
    @Test("sizes providers deliver fall in their tier, any orientation")
    func deliveredSizes() {
        let cases: [(Int, Int, Tier?)] = [
            (832, 480, .p480), (480, 832, .p480), (624, 624, .p480), (720, 544, .p480), (544, 720, .p480),
            (1280, 720, .p720), (720, 1280, .p720), (1280, 704, .p720), (960, 960, .p720),
            (1920, 1080, .p1080), (1080, 1920, .p1080), (1440, 1440, .p1080), (1632, 1248, .p1080),
            (640, 360, nil), (320, 240, nil), (3840, 2160, nil), (1024, 640, nil),
        ]
        for (width, height, tier) in cases {
            #expect(Tier.classify(width: width, height: height) == tier, "\(width)x\(height)")
        }
    }

    @Test("the tier bounds: inside is the tier, one pixel of area outside is not")
    func bounds() {
        for tier in Tier.allCases {
            #expect(tier.areaRange.contains(tier.nominalArea))
            #expect(Tier.classify(width: tier.areaRange.lowerBound, height: 1) == tier)
            #expect(Tier.classify(width: tier.areaRange.upperBound, height: 1) == tier)
            #expect(Tier.classify(width: tier.areaRange.lowerBound - 1, height: 1) == nil)
            #expect(Tier.classify(width: tier.areaRange.upperBound + 1, height: 1) == nil)
        }
    }

    @Test("tiers parse loosely, order by area and print as providers write them")
    func parsingAndOrder() throws {
        #expect(Tier(parsing: "480P") == .p480 && Tier(parsing: "720p") == .p720 && Tier(parsing: "1080") == .p1080)
        #expect(Tier(parsing: "4K") == nil && Tier(parsing: "") == nil)
        #expect(Tier.p480 < .p720 && Tier.p720 < .p1080)
        #expect(String(decoding: try JSONEncoder().encode([Tier.p720]), as: UTF8.self) == #"["720P"]"#)
    }

    @Test("rationals parse, reduce and round-trip as strings")
    func rationals() throws {
        #expect(Rational("30/1") == Rational(30, 1) && Rational("24") == Rational(24, 1))
        #expect(Rational("30000/1001")?.doubleValue == 30000.0 / 1001.0)
        #expect(Rational("1/0") == nil && Rational("a/b") == nil && Rational("1/2/3") == nil && Rational("") == nil)
        #expect(Rational(60, 2).reduced == Rational(30, 1) && Rational(0, 5).reduced == Rational(0, 1))
        #expect(Rational(0, 1).isValid == false && Rational(-30, 1).isValid == false && Rational(30, 1).isValid)
        #expect(Rational(30, 0).doubleValue == 0)
        let json = try JSONEncoder().encode(Rational(30000, 1001))
        #expect(String(decoding: json, as: UTF8.self) == #""30000\/1001""# || String(decoding: json, as: UTF8.self) == #""30000/1001""#)
        #expect(try JSONDecoder().decode(Rational.self, from: json) == Rational(30000, 1001))
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Rational.self, from: Data(#""fast""#.utf8)) }
    }
}
