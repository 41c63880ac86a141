import Foundation

/// The output forms of an audit report.
public enum ReportFormat: String, Sendable, CaseIterable {
    /// Aligned text for a terminal.
    case table
    /// The whole report as one JSON document (amounts as strings).
    case json
    /// One row per finding.
    case csv
    /// One self-contained page: summary, findings, and a chart of billed vs delivered seconds.
    case html

    /// The report rendered in this format.
    public func render(_ report: AuditReport) -> String {
        switch self {
        case .table: TextReport.render(report)
        case .json: JSONReport.render(report)
        case .csv: CSVReport.render(report)
        case .html: HTMLReport.render(report)
        }
    }
}

/// Left-aligned text columns.
struct TextTable {
    var rows: [[String]] = []
    /// Columns to align right (numbers).
    var rightAligned: Set<Int> = []

    mutating func add(_ row: [String]) { rows.append(row) }

    func render(indent: String = "") -> String {
        let widths = rows.reduce(into: [Int]()) { widths, row in
            for (index, cell) in row.enumerated() {
                if index >= widths.count { widths.append(0) }
                widths[index] = max(widths[index], cell.count)
            }
        }
        return rows.map { row in
            let cells = row.enumerated().map { index, cell in
                let pad = String(repeating: " ", count: widths[index] - cell.count)
                if index == row.count - 1 && !rightAligned.contains(index) { return cell }
                return rightAligned.contains(index) ? pad + cell : cell + pad
            }
            return indent + cells.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}

enum Format {
    /// Seconds to at most 3 decimals: "5", "4.2", "10.233".
    static func seconds(_ value: Decimal) -> String {
        Rounding.halfUp.round(value, scale: 3).plainText
    }

    static func money(_ value: Money?) -> String { value?.description ?? "?" }
}
