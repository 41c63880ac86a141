import ArgumentParser
import ClipKitAudit

/// `--prices FILE`, shared by `audit`, `prices` and `chain`: the built-in price book with a price file
/// applied on top.
struct PriceBookOptions: ParsableArguments {
    @Option(help: "JSON price file that overrides or extends the built-in prices (see `clipkit prices --format json`).")
    var prices: String?

    /// The book the command prices with.
    /// - Throws: `PriceBookError` naming the file and line (exit 3).
    func load() throws -> PriceBook {
        guard let prices else { return .builtIn }
        return try PriceBook.builtIn.merging(contentsOf: prices)
    }
}
