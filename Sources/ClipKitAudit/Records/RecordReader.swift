import ClipKitCore
import Foundation

/// A records path, the clips folder or a manifest could not be read at all (a malformed record inside
/// a readable file is a finding instead).
public struct RecordsUnreadable: ClipKitError {
    /// What went wrong, for a program to switch on.
    public enum Code: String, Sendable, Hashable, Codable, CaseIterable {
        /// No such file or folder.
        case notFound
        /// It exists but cannot be read or listed.
        case unreadable
        /// A manifest that is neither a task_id,path CSV nor the JSON forms.
        case invalidManifest
    }

    public var code: Code
    public var path: String
    public var reason: String

    public init(_ code: Code, path: String, reason: String) {
        self.code = code
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}

/// Reads provider records from files and folders, one record at a time.
///
/// JSON files may hold one object, an array of objects, several objects one after another, or JSON
/// Lines (one object per line, so a line cut short spoils only itself); `.jsonl`/`.ndjson` are always
/// JSON Lines. `.csv` files are bills or manifests. Each JSON object is
/// recognised by its shape: a ClipKit task record, a DashScope task or create response, a WaveSpeed
/// result or webhook body, a ModelVerse status or submit response.
public enum RecordReader {
    /// File extensions read as records when a folder is given.
    public static let recordExtensions: Set<String> = ["json", "jsonl", "ndjson", "csv"]

    /// The record files under `paths` (folders searched recursively, hidden entries skipped), sorted
    /// within each folder so that runs are repeatable.
    /// - Throws: `RecordsUnreadable` for a path that does not exist or a folder that cannot be listed.
    public static func files(in paths: [String]) throws -> [String] {
        var files: [String] = []
        var seen = Set<String>()
        let manager = FileManager.default
        for path in paths {
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw RecordsUnreadable(.notFound, path: path, reason: "no such file or folder")
            }
            guard isDirectory.boolValue else {
                guard manager.isReadableFile(atPath: path) else {
                    throw RecordsUnreadable(.unreadable, path: path, reason: "not readable")
                }
                if seen.insert(URL(fileURLWithPath: path).standardizedFileURL.path).inserted { files.append(path) }
                continue
            }
            let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
            guard let enumerator = manager.enumerator(atPath: resolved) else {
                throw RecordsUnreadable(.unreadable, path: path, reason: "cannot list the folder")
            }
            var found: [String] = []
            while let relative = enumerator.nextObject() as? String {
                let name = (relative as NSString).lastPathComponent
                if name.hasPrefix(".") {
                    enumerator.skipDescendants()
                    continue
                }
                if recordExtensions.contains((name as NSString).pathExtension.lowercased()) {
                    found.append((path as NSString).appendingPathComponent(relative))
                }
            }
            for file in found.sorted() where seen.insert(URL(fileURLWithPath: file).standardizedFileURL.path).inserted {
                files.append(file)
            }
        }
        return files
    }

    /// Reads every record of `file`, calling `body` for each record, problem, ignored payload and
    /// manifest row in file order. Never throws: an unreadable file is one problem.
    public static func read(file: String, _ body: (RecordItem) -> Void) {
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: file), options: .alwaysMapped) else {
            body(.problem(RecordProblem(RecordLocation(file: file, line: 0), "cannot read the file")))
            return
        }
        read(data: data, file: file, body)
    }

    /// Reads records from bytes that came from `file` (used for locations and the file type).
    public static func read(data: Data, file: String, _ body: (RecordItem) -> Void) {
        let ext = (file as NSString).pathExtension.lowercased()
        if ext == "csv" {
            CSVBill.read(data, file: file, body)
            return
        }
        if ext == "jsonl" || ext == "ndjson" || looksLikeJSONLines(data) {
            readLines(data, file: file, body)
            return
        }
        var reader = JSONReader(data)
        if reader.isAtEnd {
            body(.problem(RecordProblem(RecordLocation(file: file, line: 1), "empty file")))
            return
        }
        while true {
            do {
                guard let (line, value) = try reader.nextRecord() else { return }
                body(parse(value, at: RecordLocation(file: file, line: line)))
            } catch let error as JSONSyntaxError {
                let canGoOn = reader.recover()
                let rest = canGoOn ? "" : "; the rest of the file was skipped"
                body(
                    .problem(
                        RecordProblem(
                            RecordLocation(file: file, line: error.line),
                            "not valid JSON (column \(error.column)): \(error.message)\(rest)")))
                if !canGoOn { return }
            } catch {
                body(.problem(RecordProblem(RecordLocation(file: file, line: 0), "\(error)")))
                return
            }
        }
    }

    /// JSON Lines: each line is one record, so a line cut short spoils only itself.
    private static func readLines(_ data: Data, file: String, _ body: (RecordItem) -> Void) {
        CSV.forEachLine(of: data) { number, line in
            guard !line.allSatisfy(\.isWhitespace) else { return }
            var reader = JSONReader(String(line))
            do {
                guard let (_, value) = try reader.next() else { return }
                guard reader.isAtEnd else {
                    body(
                        .problem(
                            RecordProblem(
                                RecordLocation(file: file, line: number), "more than one JSON value on the line")))
                    return
                }
                body(parse(value, at: RecordLocation(file: file, line: number)))
            } catch let error as JSONSyntaxError {
                body(
                    .problem(
                        RecordProblem(
                            RecordLocation(file: file, line: number),
                            "not valid JSON (column \(error.column)): \(error.message)")))
            } catch {
                body(.problem(RecordProblem(RecordLocation(file: file, line: number), "\(error)")))
            }
        }
    }

    /// A `.json` file whose first line is a whole JSON value and that has more lines is JSON Lines.
    private static func looksLikeJSONLines(_ data: Data) -> Bool {
        let lines = data.split(separator: UInt8(ascii: "\n"), maxSplits: 64, omittingEmptySubsequences: true)
            .filter { !$0.allSatisfy { $0 == 32 || $0 == 9 || $0 == 13 } }
        guard lines.count > 1 else { return false }
        var reader = JSONReader(Data(lines[0]))
        guard (try? reader.next()) != nil else { return false }
        return reader.isAtEnd
    }

    /// Recognises one JSON record by its shape and normalises it.
    public static func parse(_ json: JSONValue, at location: RecordLocation) -> RecordItem {
        guard json.objectValue != nil else {
            return .problem(RecordProblem(location, "a record must be a JSON object"))
        }
        if json["kind"]?.stringValue == TaskRecord.kindMarker {
            return TaskRecordParsing.parse(json, at: location)
        }
        if let data = json["data"], data.objectValue != nil, data["id"] != nil {
            return WaveSpeedRecord.parse(json, at: location, webhook: false)
        }
        if json["id"] != nil, json["output"] == nil,
            json["outputs"] != nil || json["has_nsfw_contents"] != nil || json["status"] != nil
        {
            return WaveSpeedRecord.parse(json, at: location, webhook: true)
        }
        if let output = json["output"], output.objectValue != nil {
            let status = output["task_status"]?.stringValue
            if let status, DashScopeRecord.statuses.contains(status) {
                return DashScopeRecord.parse(json, at: location)
            }
            if status != nil || output["urls"] != nil || output["finish_time"] != nil {
                return ModelVerseRecord.parse(json, at: location)
            }
            if output["task_id"] != nil {
                // DashScope's create response always carries task_status PENDING; ModelVerse's has no status.
                return ModelVerseRecord.parse(json, at: location)
            }
        }
        if json["code"] != nil, json["message"] != nil {
            let code = json["code"]?.stringValue ?? ""
            return .ignored(
                location, "error response \(code): \(json["message"]?.stringValue ?? "") (no task was created)")
        }
        let keys = (json.objectValue?.keys.sorted() ?? []).prefix(6).joined(separator: ", ")
        return .problem(RecordProblem(location, "unrecognised record (keys: \(keys))"))
    }
}
