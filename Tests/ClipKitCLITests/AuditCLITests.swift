import ClipKitTestSupport
import Foundation
import Testing

/// `clipkit audit` and `clipkit prices` run as a user would, on the committed samples.
@Suite("clipkit audit")
struct AuditCLITests {
    let records = Samples.root + "/samples/records"
    let clips = Samples.root + "/samples"

    struct Report: Decodable {
        struct Money: Decodable, Equatable {
            var amount: String
            var currency: String
        }
        struct Total: Decodable {
            var currency: String
            var billed: Money
            var verified: Money
            var disputed: Money
        }
        struct Summary: Decodable {
            var totals: [Total]
            var errors: Int
            var warnings: Int
            var unpricedTasks: Int
        }
        struct Finding: Decodable {
            var code: String
            var taskID: String?
            var overBilled: Money?
        }
        var summary: Summary
        var findings: [Finding]
    }

    func decode(_ data: Data) throws -> Report { try JSONDecoder().decode(Report.self, from: data) }

    @Test("the samples walk-through finds every trap and its amount, and exits 1")
    func walkThrough() throws {
        let result = try clipkit("audit", "--records", records, "--clips", clips, "--format", "json")
        #expect(result.status == 1)
        let report = try decode(result.stdout)
        let totals = Dictionary(uniqueKeysWithValues: report.summary.totals.map { ($0.currency, $0) })
        #expect(totals["CNY"]?.billed.amount == "25.42")
        #expect(totals["CNY"]?.disputed.amount == "9.78")
        #expect(totals["CNY"]?.verified.amount == "15.64")
        #expect(totals["USD"]?.billed.amount == "0.25")
        #expect(totals["USD"]?.disputed.amount == "0.20")
        let amounts = Dictionary(
            report.findings.map { ($0.code + " " + ($0.taskID ?? "-"), $0.overBilled?.amount ?? "-") },
            uniquingKeysWith: { a, _ in a })
        #expect(amounts["durationShort d4a3f6e5-9e4b-4f88-8d4b-5c0e6f7a8b04"] == "0.08")
        #expect(amounts["tierMismatch e5b4a7f6-af5c-4a99-9e5c-6d1f7a8b9c05"] == "1.40")
        #expect(amounts["duplicateBilling c3f2e5d4-8d3a-4e77-9c3a-4b9d5e6f7a03"] == "2.40")
        #expect(amounts["failedButBilled 0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c10"] == "0.70")
        #expect(amounts["contentFlaggedButBilled 1b2c3d4e-5f6a-4b7c-9d8e-0f1a2b3c4d11"] == "1.50")
        #expect(amounts["contentFlaggedButBilled 9a7c3e1f5b2d4e6f8a0b1c2d3e4f5a07"] == "0.20")
        #expect(amounts["notVideo f6c5b8a7-b06d-4baa-8f6d-7e2a8b9c0d06"] == "1.50")
        #expect(amounts["amountMismatch a1f0c3d2-6b1e-4c55-9a1e-2f7b3c4d5e01"] == "0.50")
        #expect(amounts["clipMissing 2c3d4e5f-6a7b-4c8d-8e9f-1a2b3c4d5e12"] == "1.00")
        #expect(amounts["truncated 4e5f6a7b-8c9d-4e0f-8a1b-3c4d5e6f7a14"] == "0.70")
        #expect(amounts["audioMissing 3d4e5f6a-7b8c-4d9e-9f0a-2b3c4d5e6f13"] == "0.00")
        #expect(amounts["unpriced 5d8e2f1a9b3c4d7e8f6a0b1c2d3e4f50"] == "-")
        // ModelVerse's usage.duration (143 s of execution) is never read as billed seconds.
        #expect(
            !report.findings.contains { $0.taskID == "5d8e2f1a9b3c4d7e8f6a0b1c2d3e4f50" && $0.code == "durationShort" })
        #expect(report.findings.filter { $0.code == "recordUnreadable" }.count == 2)
        #expect(result.stderr.contains("disputed 9.78 CNY, 0.20 USD"))
    }

    @Test("a contract price file prices ModelVerse")
    func contractPrices() throws {
        let result = try clipkit(
            "audit", "--records", records, "--clips", clips, "--format", "json",
            "--prices", Samples.root + "/samples/prices/modelverse-contract.json")
        let report = try decode(result.stdout)
        #expect(report.summary.unpricedTasks == 0)
        #expect(report.summary.totals.first { $0.currency == "CNY" }?.billed.amount == "26.02")
    }

    @Test("a clean bill exits 0, even with --fail-on warning")
    func clean() throws {
        // A folder with only the wan2.5 720p clip (samples/ also holds a task record with a warning).
        let folder = Fixtures.shared.scratch("audit-clean")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            atPath: Samples.path(Samples.audio720p), toPath: folder + "/" + Samples.audio720p)
        let result = try clipkit(
            "audit", "--records", records + "/dashscope/query-wan25-i2v-720p.json", "--clips", folder,
            "--manifest", records + "/manifest.csv", "--fail-on", "warning")
        #expect(result.status == 0)
        #expect(result.text.contains("No findings"))
    }

    @Test("warnings fail only with --fail-on warning")
    func failOn() throws {
        let task = Samples.root + "/samples/audit/wan25-t2v-3d4e5f6a.task.json"  // audioMissing: a warning
        let empty = Fixtures.shared.scratch("audit-no-clips")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        #expect(try clipkit("audit", "--records", task, "--clips", empty).status == 0)
        #expect(try clipkit("audit", "--records", task, "--clips", empty, "--fail-on", "warning").status == 1)
    }

    @Test("-o writes the report atomically and refuses to overwrite without --force")
    func outputFile() throws {
        let out = Fixtures.shared.scratch("audit.html")
        let first = try clipkit("audit", "--records", records, "--clips", clips, "--format", "html", "-o", out)
        #expect(first.status == 1)
        #expect(first.stdout.isEmpty)
        let html = try String(contentsOfFile: out, encoding: .utf8)
        #expect(html.contains("<svg") && html.contains("25.42"))
        #expect(try clipkit("audit", "--records", records, "--clips", clips, "-o", out).status == 2)
        #expect(try clipkit("audit", "--records", records, "--clips", clips, "-o", out, "--force").status == 1)
    }

    @Test("unreadable inputs exit 3, bad arguments 2")
    func exitCodes() throws {
        #expect(try clipkit("audit", "--records", "/no/such/records", "--clips", clips).status == 3)
        #expect(try clipkit("audit", "--records", records, "--clips", "/no/such/clips").status == 3)
        #expect(try clipkit("audit", "--records", records, "--clips", clips, "--manifest", "/no/such.csv").status == 3)
        #expect(try clipkit("audit", "--clips", clips).status == 2)
        #expect(try clipkit("audit", "--records", records, "--clips", clips, "--format", "pdf").status == 2)
    }

    @Test("prices prints the price book and reads a price file")
    func prices() throws {
        let table = try clipkit("prices")
        #expect(table.status == 0)
        #expect(table.text.contains("wan2.2-t2v-plus") && table.text.contains("0.14 CNY/s"))
        #expect(table.text.contains("0.20 USD per 5 s clip"))
        let json = try clipkit(
            "prices", "--format", "json", "--prices", Samples.root + "/samples/prices/modelverse-contract.json")
        let object = try #require(try JSONSerialization.jsonObject(with: json.stdout) as? [String: Any])
        let rules = try #require(object["rules"] as? [[String: Any]])
        #expect(rules.contains { $0["provider"] as? String == "modelverse" && $0["price"] as? String == "0.60" })
        let broken = try Fixtures.shared.file(
            "broken-prices.json", bytes: Array("{\"rules\": [\n  {\"provider\": }\n]}".utf8))
        let bad = try clipkit("prices", "--prices", broken)
        #expect(bad.status == 3)
        #expect(bad.stderr.contains("broken-prices.json:2"))
    }
}
