import ClipKitAudit
import ClipKitCore
import Foundation
import Testing

/// A small audit with findings in two currencies, for the report formats.
func sampleReport() -> AuditReport {
    var audit = Audit()
    let records = """
        task_id,provider,model,resolution,billed_seconds,amount,currency
        short-1,dashscope,wan2.2-i2v-flash,480P,5,0.50,CNY
        low-1,dashscope,wan2.2-i2v-flash,1080P,5,2.40,CNY
        low-1,dashscope,wan2.2-i2v-flash,1080P,5,2.40,CNY
        ok-1,dashscope,wan2.5-i2v-preview,720P,5,3.00,CNY
        nsfw-1,wavespeed,alibaba/wan-2.2/i2v-plus-480p,,,0.20,USD
        bad-1,dashscope,wan2.2-t2v-plus,480P,5,"<b>n/a</b>",CNY
        """
    RecordReader.read(data: Data(records.utf8), file: "bill.csv") { audit.add($0) }
    RecordReader.read(
        data: Data(#"{"code":200,"data":{"id":"nsfw-1","status":"completed","has_nsfw_contents":[true]}}"#.utf8),
        file: "nsfw.json"
    ) { audit.add($0) }
    let clips = [
        clip("/clips/short-1.mp4", frames: 126), clip("/clips/low-1.mp4", width: 1280, height: 720),
        clip("/clips/ok-1.mp4", width: 1280, height: 720, fps: 24, frames: 120, audio: true), clip("/clips/nsfw-1.mp4"),
    ]
    let byPath = Dictionary(uniqueKeysWithValues: clips.map { ($0.path, $0) })
    return audit.finish(clips: ClipIndex(root: "/clips", clips: clips.map(\.path))) { byPath[$0] }
}

@Suite struct ReportTests {
    let report = sampleReport()

    @Test func summaryTotals() {
        #expect(
            report.summary.totals == [
                CurrencyTotal(currency: "CNY", billed: cny("8.30"), verified: cny("4.42"), disputed: cny("3.88")),
                CurrencyTotal(currency: "USD", billed: usd("0.20"), verified: usd("0.00"), disputed: usd("0.20")),
            ])
        #expect(report.reaches(.error))
        #expect(report.summary.recordProblems == 1)
    }

    @Test func tableShowsTotalsAndFindings() {
        let text = ReportFormat.table.render(report)
        let rows = text.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(rows.contains(["CNY", "8.30", "4.42", "3.88"]))
        #expect(rows.contains(["USD", "0.20", "0.00", "0.20"]))
        #expect(text.contains("durationShort"))
        #expect(text.contains("0.08 CNY"))
        #expect(text.contains("1.40 CNY"))
    }

    @Test func jsonKeepsAmountsAsStrings() throws {
        let text = ReportFormat.json.render(report)
        #expect(text.contains(#""amount" : "3.88""#))
        let decoded = try JSONDecoder().decode(AuditReport.self, from: Data(text.utf8))
        #expect(decoded == report)
    }

    @Test func csvHasOneRowPerFindingAndEscapes() {
        let lines = ReportFormat.csv.render(report).split(separator: "\n")
        #expect(lines.count == report.findings.count + 1)
        #expect(lines[0] == "severity,code,task_id,provider,model,over_billed,currency,clip,record,message")
        #expect(lines.contains { $0.hasPrefix("error,tierMismatch,low-1,dashscope,wan2.2-i2v-flash,1.40,CNY,") })
    }

    @Test func htmlIsSelfContainedAndEscaped() {
        let html = ReportFormat.html.render(report)
        #expect(html.hasPrefix("<!doctype html>"))
        #expect(html.contains("<svg"))
        #expect(!html.contains("<script"))
        #expect(!html.contains("src=\"http"))
        #expect(!html.contains("href=\"http"))
        #expect(html.contains("&lt;b&gt;n/a&lt;/b&gt;"))
        #expect(!html.contains("<b>n/a</b>"))
    }

    /// The page rendered by a real browser: Debian's `chromium`, headless.
    @Test(.timeLimit(.minutes(2)))
    func htmlRendersInHeadlessChromium() throws {
        let chromium = try #require(Self.chromium(), "chromium is not installed: apt-get install -y chromium")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("clipkit-html-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let page = folder.appendingPathComponent("audit.html")
        try ReportFormat.html.render(report).write(to: page, atomically: true, encoding: .utf8)

        let common = [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
            "--user-data-dir=\(folder.appendingPathComponent("profile").path)",
        ]
        let screenshot = folder.appendingPathComponent("audit.png")
        _ = try Self.run(
            chromium, common + ["--screenshot=\(screenshot.path)", "--window-size=1280,1600", page.absoluteString])
        let png = try Data(contentsOf: screenshot)
        #expect(png.count > 10_000)
        #expect(png.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))

        let dom = try Self.run(chromium, common + ["--dump-dom", page.absoluteString])
        #expect(dom.contains("ClipKit billing audit"))
        #expect(dom.contains("3.88"))  // CNY disputed
        #expect(dom.contains("4.42"))  // CNY verified
        #expect(dom.contains("tierMismatch"))
        #expect(dom.contains("Billed vs delivered seconds per model"))
    }

    static func chromium() -> String? {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs a program and returns its standard output.
    static func run(_ program: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
