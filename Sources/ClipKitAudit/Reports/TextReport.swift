import Foundation

/// The report as aligned text: summary, per-model totals, findings.
enum TextReport {
    static func render(_ report: AuditReport) -> String {
        let s = report.summary
        var out: [String] = ["ClipKit billing audit", ""]
        var counts = TextTable()
        counts.add(["records", "\(s.records) read, \(s.recordProblems) unreadable, \(s.ignoredRecords) without a task"])
        counts.add(["tasks", "\(s.tasks) (\(s.billedTasks) billed, \(s.unpricedTasks) without a price)"])
        counts.add([
            "clips",
            "\(s.clipsInFolder) in folder, \(s.clipsChecked) checked, \(s.clipsWithoutRecord) without a record",
        ])
        counts.add([
            "findings",
            "\(s.errors) error\(s.errors == 1 ? "" : "s"), \(s.warnings) warning\(s.warnings == 1 ? "" : "s")",
        ])
        out.append(counts.render(indent: "  "))
        out.append("")

        var money = TextTable(rightAligned: [1, 2, 3])
        money.add(["currency", "billed", "verified", "disputed"])
        for total in s.totals {
            money.add([total.currency, total.billed.amountText, total.verified.amountText, total.disputed.amountText])
        }
        out.append(money.render(indent: "  "))
        out.append("")

        var models = TextTable(rightAligned: [2, 3, 4, 5, 6, 7])
        models.add(["provider", "model", "tasks", "billed s", "delivered s", "billed", "disputed", "findings"])
        for group in s.models {
            models.add([
                group.provider, group.model ?? "", "\(group.billedTasks)", Format.seconds(group.billedSeconds),
                Format.seconds(group.deliveredSeconds), Format.money(group.billed), Format.money(group.disputed),
                "\(group.findings)",
            ])
        }
        out.append(models.render(indent: "  "))

        if report.findings.isEmpty {
            out.append("")
            out.append("No findings: every billed task matches its clip.")
        } else {
            out.append("")
            out.append("Findings")
            var findings = TextTable()
            for finding in report.findings {
                findings.add([
                    finding.severity.rawValue.uppercased(), finding.code.rawValue,
                    finding.overBilled.map { $0.description } ?? "-", finding.message,
                ])
            }
            out.append(findings.render(indent: "  "))
        }
        return out.joined(separator: "\n") + "\n"
    }
}
