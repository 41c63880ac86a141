import ClipKitAudit
import Foundation
import Testing

@Suite struct MoneyTests {
    @Test func parsesAmountsExactly() {
        #expect(Money(parsing: "0.70", currency: "cny") == cny("0.70"))
        #expect(Money(parsing: "¥5.12", currency: "CNY") == cny("5.12"))
        #expect(Money(parsing: "$0.2", currency: "USD") == usd("0.20"))
        #expect(Money(parsing: "1e1", currency: "USD") == usd("10"))
        #expect(Money(parsing: "n/a", currency: "CNY") == nil)
        #expect(Money(parsing: "1,20", currency: "CNY") == nil)
        #expect(Money(parsing: "12abc", currency: "CNY") == nil)
        #expect(Money(parsing: "", currency: "CNY") == nil)
    }

    @Test func decimalArithmeticHasNoFloatingPointError() {
        // 0.1 + 0.2 is 0.30000000000000004 in binary floating point.
        #expect(cny("0.1") + cny("0.2") == cny("0.3"))
        #expect((cny("0.14") * 5).amountText == "0.70")
        #expect((cny("0.14") * 5) == cny("0.7"))
    }

    @Test(arguments: [
        (Rounding.halfUp, "5.115", "5.12"), (.halfUp, "5.125", "5.13"), (.halfUp, "-5.115", "-5.12"),
        (.halfEven, "5.125", "5.12"), (.halfEven, "5.135", "5.14"),
        (.up, "5.111", "5.12"), (.up, "-5.111", "-5.12"),
        (.down, "5.119", "5.11"), (.down, "-5.119", "-5.11"),
    ])
    func rounding(mode: Rounding, input: String, expected: String) {
        #expect(mode.round(Decimal(string: input)!, scale: 2) == Decimal(string: expected)!)
    }

    @Test func formatsWithTheCurrencysMinorUnit() {
        #expect(cny("0.7").description == "0.70 CNY")
        #expect(usd("5").amountText == "5.00")
        #expect(Money(Decimal(string: "1500")!, "JPY").amountText == "1500")
        #expect(cny("-1.4").amountText == "-1.40")
    }

    @Test func encodesAmountsAsStrings() throws {
        let data = try JSONEncoder().encode(cny("5.12"))
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains(#""amount":"5.12""#))
        #expect(try JSONDecoder().decode(Money.self, from: data) == cny("5.12"))
        let fromNumber = try JSONDecoder().decode(Money.self, from: Data(#"{"amount":10.23,"currency":"cny"}"#.utf8))
        #expect(fromNumber == cny("10.23"))
    }
}
