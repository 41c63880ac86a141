import ClipKitCore
import Foundation

/// Splits a file into lines without holding more than the file's bytes, and a line into CSV fields
/// (RFC 4180 quoting within one line: `"a, b"`, `"say ""hi"""`).
enum CSV {
    /// Calls `body` with each line (without its line break) and its 1-based number. Lines are cut
    /// from the bytes one at a time, so a large file is never copied whole into a `String`.
    static func forEachLine(of data: Data, _ body: (Int, Substring) throws -> Void) rethrows {
        try data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            let bytes = buffer.bindMemory(to: UInt8.self)
            var start = 0
            var number = 0
            if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { start = 3 }  // byte order mark
            while start <= bytes.count {
                var end = start
                while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
                number += 1
                var stop = end
                if stop > start && bytes[stop - 1] == UInt8(ascii: "\r") { stop -= 1 }
                if end == bytes.count && start == end { break }  // no empty line after the last line break
                let line = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<stop]), as: UTF8.self)
                try body(number, line[...])
                start = end + 1
            }
        }
    }

    struct QuoteError: Error {}

    /// The fields of one line.
    /// - Throws: `QuoteError` for a quote that is never closed.
    static func fields(_ line: Substring) throws -> [String] {
        if !line.utf8.contains(UInt8(ascii: "\"")) {
            return line.split(separator: ",", omittingEmptySubsequences: false).map(\.trimmedSpaces)
        }
        var fields: [String] = []
        var field = ""
        var inQuotes = false
        var index = line.startIndex
        while index < line.endIndex {
            let char = line[index]
            if inQuotes {
                if char == "\"" {
                    let next = line.index(after: index)
                    if next < line.endIndex && line[next] == "\"" {
                        field.append("\"")
                        index = next
                    } else {
                        inQuotes = false
                    }
                } else {
                    field.append(char)
                }
            } else if char == "\"" && field.isEmpty {
                inQuotes = true
            } else if char == "," {
                fields.append(field)
                field = ""
            } else {
                field.append(char)
            }
            index = line.index(after: index)
        }
        if inQuotes { throw QuoteError() }
        fields.append(field)
        return fields.map(\.trimmedSpaces)
    }

    /// A header name in one spelling: "Task ID", "task-id" and "task_id" are all `task_id`.
    static func normaliseHeader(_ name: String) -> String {
        name.trimmingCharacters(in: .whitespaces).lowercased()
            .replacingOccurrences(of: " ", with: "_").replacingOccurrences(of: "-", with: "_")
    }

    /// A field escaped for writing: quoted when it holds a comma, a quote or a line break.
    static func escape(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// A bill exported as CSV: `task_id,model,billed_seconds,amount,currency`, optionally `provider`,
/// `resolution` (or `tier`) and `status`. Column names are matched loosely and other columns are ignored.
enum CSVBill {
    static let aliases: [String: [String]] = [
        "task_id": ["task_id", "taskid", "task", "request_id", "prediction_id", "id"],
        "model": ["model", "model_name"],
        "billed_seconds": ["billed_seconds", "seconds", "billed_duration", "duration", "video_duration"],
        "amount": ["amount", "cost", "charge", "fee", "price"],
        "currency": ["currency", "currency_code"],
        "provider": ["provider", "vendor"],
        "resolution": ["resolution", "tier", "sr"],
        "status": ["status", "task_status"],
        "path": ["path", "file", "clip", "clip_path"],
    ]

    /// Column positions by canonical name.
    static func columns(_ header: [String]) -> [String: Int] {
        let names = header.map(CSV.normaliseHeader)
        var columns: [String: Int] = [:]
        for (canonical, spellings) in aliases {
            if let index = spellings.lazy.compactMap({ names.firstIndex(of: $0) }).first { columns[canonical] = index }
        }
        return columns
    }

    /// Reads a CSV file that is a bill or a manifest (task_id and path columns, no amount).
    static func read(_ data: Data, file: String, _ body: (RecordItem) -> Void) {
        var columns: [String: Int]?
        var isManifest = false
        CSV.forEachLine(of: data) { number, line in
            let location = RecordLocation(file: file, line: number)
            if line.allSatisfy(\.isWhitespace) || line.hasPrefix("#") { return }
            let fields: [String]
            do {
                fields = try CSV.fields(line)
            } catch {
                body(.problem(RecordProblem(location, "unclosed quote")))
                return
            }
            guard let known = columns else {
                let found = self.columns(fields)
                if found["task_id"] != nil && found["path"] != nil && found["amount"] == nil {
                    isManifest = true
                } else {
                    let missing = ["task_id", "model", "amount", "currency"].filter { found[$0] == nil }
                    if !missing.isEmpty {
                        body(
                            .problem(
                                RecordProblem(
                                    location,
                                    "not a bill or manifest: header lacks \(missing.joined(separator: ", ")); file skipped"
                                )))
                        columns = [:]
                        return
                    }
                }
                columns = found
                return
            }
            guard !known.isEmpty else { return }
            func value(_ name: String) -> String? {
                guard let index = known[name], index < fields.count, !fields[index].isEmpty else { return nil }
                return fields[index]
            }
            guard let taskID = value("task_id") else {
                body(.problem(RecordProblem(location, "row without a task id")))
                return
            }
            if isManifest {
                body(
                    .manifest(
                        ManifestEntry(
                            taskID: taskID, path: value("path"), model: value("model"),
                            provider: value("provider"), location: location)))
                return
            }
            body(row(taskID: taskID, value: value, at: location))
        }
    }

    private static func row(taskID: String, value: (String) -> String?, at location: RecordLocation) -> RecordItem {
        guard let currency = value("currency") else {
            return .problem(RecordProblem(location, "task \(taskID): no currency"))
        }
        guard let amountText = value("amount"), let amount = Money(parsing: amountText, currency: currency) else {
            return .problem(
                RecordProblem(location, "task \(taskID): amount \"\(value("amount") ?? "")\" is not a number"))
        }
        var seconds: Decimal?
        if let text = value("billed_seconds") {
            guard let parsed = Money.parseDecimal(text), parsed >= 0 else {
                return .problem(RecordProblem(location, "task \(taskID): billed_seconds \"\(text)\" is not a number"))
            }
            seconds = parsed
        }
        var tier: Tier?
        if let text = value("resolution") {
            guard let parsed = Tier(parsing: text) else {
                return .problem(RecordProblem(location, "task \(taskID): unknown resolution \"\(text)\""))
            }
            tier = parsed
        }
        let providerStatus = value("status")
        return .record(
            BillingRecord(
                location: location, format: .csvBill, taskID: taskID, provider: value("provider"),
                model: value("model"),
                status: providerStatus.map { TaskStatus($0, provider: value("provider")) }, providerStatus: providerStatus,
                tier: tier,
                billedSeconds: seconds, amount: amount, charged: true))
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs. Foundation's `trimmingCharacters(in:)`
    /// goes through NSString on Linux and dominated the time to read a 100,000-line bill.
    var trimmedSpaces: String {
        var text = Substring(self)
        while let first = text.utf8.first, first == 32 || first == 9 { text = text.dropFirst() }
        while let last = text.utf8.last, last == 32 || last == 9 { text = text.dropLast() }
        return String(text)
    }
}
