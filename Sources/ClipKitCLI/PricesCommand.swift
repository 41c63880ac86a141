import ArgumentParser
import ClipKitConsole
import ClipKitAudit
import Foundation

struct PricesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prices",
        abstract: "Print the price book the audit uses: built-in public prices plus a --prices file.",
        discussion: """
            Built-in prices come from the providers' public pages: DashScope/Bailian per second of \
            output (CNY), WaveSpeed per clip or per second with a 5 s minimum (USD). ModelVerse \
            publishes none: its rows read "contract" until a --prices file sets them.

            A price file is {"rules": [ … ]} (the form --format json prints). A rule names provider, \
            model and optionally tier; one that matches a built-in rule may give only what it changes \
            ("price"), a new one also needs currency and unit ("second" or "clip", with clipSeconds). \
            Optional: minimumSeconds, incrementSeconds, scale, rounding (halfUp, halfEven, up, down), \
            audio (expected, none, any).

            Examples:
              clipkit prices
              clipkit prices --prices contract.json --format json

            Exit codes: 0 printed; 2 bad arguments; 3 the price file could not be read.
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, json
    }

    @OptionGroup var priceBook: PriceBookOptions

    @Option(help: "Output format: table or json.")
    var format: Format = .table

    func run() async throws {
        let book = try priceBook.load()
        Stdout.write(format == .json ? PriceReport.json(book) : PriceReport.table(book))
    }
}
