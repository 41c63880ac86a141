import Foundation

/// The report as JSON: `{"summary": {…}, "findings": [ … ]}`. Money is `{"amount": "0.70",
/// "currency": "CNY"}` with the amount as a string, so no reader turns it into a double.
enum JSONReport {
    static func render(_ report: AuditReport) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(report) else { return "{}\n" }
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}

/// One CSV row per finding.
enum CSVReport {
    static let header = [
        "severity", "code", "task_id", "provider", "model", "over_billed", "currency", "clip", "record", "message",
    ]

    static func render(_ report: AuditReport) -> String {
        var lines = [header.joined(separator: ",")]
        for f in report.findings {
            let row = [
                f.severity.rawValue, f.code.rawValue, f.taskID ?? "", f.provider ?? "", f.model ?? "",
                f.overBilled?.amountText ?? "", f.overBilled?.currency ?? "", f.clip ?? "",
                f.record?.description ?? "", f.message,
            ]
            lines.append(row.map(CSV.escape).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
