// snippet audit
import ClipKit

/// What the bills under `records` charged for the clips under `clips`, and what of it the clips do not
/// support, in money.
func audit(records: [String], clips: String, prices: String? = nil) async throws -> AuditReport {
    let priceBook = try prices.map { try PriceBook.builtIn.merging(contentsOf: $0) } ?? .builtIn
    var audit = Audit(priceBook: priceBook)
    let index = try ClipIndex(scanning: clips)
    try audit.read(recordPaths: records, clips: index)  // bills, task queries, webhooks, task records
    return try await audit.run(clips: index) { paths in try await MediaProbe.probeAll(paths) }
}
// end snippet

import Foundation
import Testing

@Suite("auditing a bill")
struct AuditingABillTests {
    @Test("the sample bills: ten errors and four warnings, 9.78 CNY and 0.20 USD disputed")
    func sampleRecords() async throws {
        let records = Repository.path("samples/records"), clips = Repository.path("samples")
        // snippet audit-call
        let report = try await audit(records: [records], clips: clips)
        for finding in report.findings where finding.severity == .error {
            show("\(finding.code) \(finding.overBilled?.description ?? "-"): \(finding.message)")
        }
        show(ReportFormat.table.render(report))  // or .json, .csv, .html
        // end snippet
        #expect(report.summary.errors == 10)
        #expect(report.summary.warnings == 4)
        #expect(report.summary.totals.map(\.disputed) == [Money(Decimal(string: "9.78")!, "CNY"), Money(Decimal(string: "0.20")!, "USD")])
        #expect(Shown.shared.all.contains { $0.hasPrefix("clipMissing 1.00 CNY: task 2c3d4e5f") })
    }
}
