import ClipKitCore
import Foundation

/// The report as one self-contained HTML page: inline CSS and an inline SVG chart, no scripts and
/// no external assets, so it can be mailed or archived as a single file.
enum HTMLReport {
    static func render(_ report: AuditReport) -> String {
        let s = report.summary
        var html = """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>ClipKit billing audit</title>
            <style>\(style)</style>
            </head>
            <body>
            <h1>ClipKit billing audit</h1>
            <section id="summary">
            <h2>Summary</h2>
            <div class="cards">

            """
        for total in s.totals {
            html += """
                <div class="card"><h3>\(escape(total.currency))</h3><dl>
                <dt>Billed</dt><dd class="billed">\(total.billed.amountText)</dd>
                <dt>Verified</dt><dd class="verified">\(total.verified.amountText)</dd>
                <dt>Disputed</dt><dd class="disputed">\(total.disputed.amountText)</dd>
                </dl></div>

                """
        }
        html += """
            </div>
            <p class="counts">\(s.records) records read (\(s.recordProblems) unreadable) · \(s.tasks) tasks, \
            \(s.billedTasks) billed · \(s.clipsInFolder) clips in folder, \(s.clipsChecked) checked, \
            \(s.clipsWithoutRecord) without a record · <strong>\(s.errors) errors</strong>, \(s.warnings) warnings</p>
            <table class="models">
            <thead><tr><th>Provider</th><th>Model</th><th>Tasks</th><th>Billed s</th><th>Delivered s</th>\
            <th>Billed</th><th>Disputed</th><th>Findings</th></tr></thead>
            <tbody>

            """
        for group in s.models {
            html +=
                "<tr><td>\(escape(group.provider))</td><td>\(escape(group.model ?? ""))</td>"
                + "<td class=\"num\">\(group.billedTasks)</td><td class=\"num\">\(Format.seconds(group.billedSeconds))</td>"
                + "<td class=\"num\">\(Format.seconds(group.deliveredSeconds))</td>"
                + "<td class=\"num\">\(escape(Format.money(group.billed)))</td>"
                + "<td class=\"num\">\(escape(Format.money(group.disputed)))</td><td class=\"num\">\(group.findings)</td></tr>\n"
        }
        html += """
            </tbody>
            </table>
            </section>
            <section id="chart">
            <h2>Billed vs delivered seconds per model</h2>
            \(chart(s.models))
            </section>
            <section id="findings">
            <h2>Findings (\(report.findings.count))</h2>

            """
        if report.findings.isEmpty {
            html += "<p>No findings: every billed task matches its clip.</p>\n"
        } else {
            html += """
                <table class="findings">
                <thead><tr><th>Severity</th><th>Code</th><th>Over-billed</th><th>Task</th><th>Message</th></tr></thead>
                <tbody>

                """
            for f in report.findings {
                html +=
                    "<tr class=\"\(f.severity.rawValue)\"><td>\(f.severity.rawValue)</td><td><code>\(f.code.rawValue)</code></td>"
                    + "<td class=\"num\">\(escape(f.overBilled?.description ?? "–"))</td>"
                    + "<td><code>\(escape(f.taskID ?? "–"))</code></td><td>\(escape(f.message))</td></tr>\n"
            }
            html += "</tbody>\n</table>\n"
        }
        html += "</section>\n</body>\n</html>\n"
        return html
    }

    /// Two horizontal bars per model: seconds billed and seconds the clips really hold.
    static func chart(_ groups: [GroupTotal]) -> String {
        guard !groups.isEmpty else { return "<p>No billed tasks.</p>" }
        let labelWidth = 300.0
        let barWidth = 420.0
        let rowHeight = 46.0
        let top = 34.0
        let width = labelWidth + barWidth + 80
        let height = top + rowHeight * Double(groups.count) + 10
        let largest = groups.map { max($0.billedSeconds.doubleValue, $0.deliveredSeconds.doubleValue) }.max() ?? 0
        let scale = largest > 0 ? barWidth / largest : 0
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Billed vs delivered seconds per model" \
            viewBox="0 0 \(Int(width)) \(Int(height))" width="\(Int(width))" height="\(Int(height))">
            <rect x="\(Int(labelWidth))" y="6" width="12" height="12" fill="#3867d6"/>
            <text x="\(Int(labelWidth) + 18)" y="16">billed seconds</text>
            <rect x="\(Int(labelWidth) + 150)" y="6" width="12" height="12" fill="#20bf6b"/>
            <text x="\(Int(labelWidth) + 168)" y="16">delivered seconds</text>

            """
        for (index, group) in groups.enumerated() {
            let y = top + rowHeight * Double(index)
            let billed = group.billedSeconds.doubleValue
            let delivered = group.deliveredSeconds.doubleValue
            let label = "\(group.provider) / \(group.model ?? "")"
            svg += """
                <text x="\(Int(labelWidth) - 8)" y="\(fmt(y + 22))" text-anchor="end">\(escape(label))</text>
                <rect class="bar-billed" x="\(Int(labelWidth))" y="\(fmt(y + 4))" width="\(fmt(billed * scale))" height="16" fill="#3867d6"/>
                <text x="\(fmt(labelWidth + billed * scale + 4))" y="\(fmt(y + 17))">\(Format.seconds(group.billedSeconds)) s</text>
                <rect class="bar-delivered" x="\(Int(labelWidth))" y="\(fmt(y + 22))" width="\(fmt(delivered * scale))" height="16" fill="#20bf6b"/>
                <text x="\(fmt(labelWidth + delivered * scale + 4))" y="\(fmt(y + 35))">\(Format.seconds(group.deliveredSeconds)) s</text>

                """
        }
        return svg + "</svg>"
    }

    private static func fmt(_ value: Double) -> String { String(format: "%.1f", value) }

    static func escape(_ text: String) -> String { HTML.escape(text) }

    static let style = """
        body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px 32px;color:#1e272e;background:#fff}
        h1{font-size:22px;margin:0 0 12px}h2{font-size:17px;margin:28px 0 10px;border-bottom:1px solid #d2dae2;padding-bottom:4px}
        .cards{display:flex;gap:16px;flex-wrap:wrap}.card{border:1px solid #d2dae2;border-radius:8px;padding:10px 16px;min-width:190px}
        .card h3{margin:0 0 6px;font-size:15px}.card dl{display:grid;grid-template-columns:auto auto;gap:2px 16px;margin:0}
        .card dt{color:#485460}.card dd{margin:0;text-align:right;font-variant-numeric:tabular-nums}
        dd.disputed{color:#c0392b;font-weight:600}dd.verified{color:#1e8449}
        table{border-collapse:collapse;margin-top:10px}th,td{border-bottom:1px solid #e4e9ee;padding:4px 10px;text-align:left;vertical-align:top}
        th{background:#f1f2f6}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
        tr.error td:first-child{color:#c0392b;font-weight:600}tr.warning td:first-child{color:#b9770e;font-weight:600}
        code{font-size:12px}svg text{font-size:12px;fill:#1e272e}
        """
}
