import ClipKitCore
import Foundation

/// One row of a manifest: the clip a task produced, and optionally its model and provider (raw
/// DashScope and ModelVerse responses do not name the model, so a pipeline's manifest may).
public struct ManifestEntry: Sendable, Hashable {
    public var taskID: String
    /// The clip's path; relative paths are resolved against the clips folder.
    public var path: String?
    public var model: String?
    public var provider: String?
    public var location: RecordLocation

    public init(taskID: String, path: String?, model: String? = nil, provider: String? = nil, location: RecordLocation)
    {
        self.taskID = taskID
        self.path = path
        self.model = model
        self.provider = provider?.lowercased()
        self.location = location
    }
}

/// Task id → clip manifests, as CSV (`task_id,path[,model,provider]`) or JSON (`{"ID": "path", …}` or
/// `[{"task_id": …, "path": …, "model": …}, …]`).
public enum Manifest {
    /// Reads a manifest file.
    /// - Throws: `RecordsUnreadable` when the file cannot be read or is neither form; a bad row is a
    ///   problem passed to `problems` and the rest is read.
    public static func load(_ path: String, problems: (RecordProblem) -> Void = { _ in }) throws -> [ManifestEntry] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RecordsUnreadable(.unreadable, path: path, reason: "cannot read the manifest")
        }
        var entries: [ManifestEntry] = []
        if (path as NSString).pathExtension.lowercased() == "csv" {
            var bill = false
            CSVBill.read(data, file: path) { item in
                switch item {
                case .manifest(let entry): entries.append(entry)
                case .problem(let problem): problems(problem)
                case .record: bill = true
                case .ignored: break
                }
            }
            if bill || (entries.isEmpty && !data.isEmpty && CSVBill.columns(headerFields(data))["path"] == nil) {
                throw RecordsUnreadable(.invalidManifest, path: path, reason: "a manifest needs task_id and path columns")
            }
            return entries
        }
        var reader = JSONReader(data)
        do {
            while let (line, value) = try reader.nextRecord() {
                let location = RecordLocation(file: path, line: line)
                if let object = value.objectValue, value["task_id"] == nil, value["taskID"] == nil {
                    // {"task id": "path", …}
                    for (taskID, target) in object.sorted(by: { $0.key < $1.key }) {
                        guard let clip = target.stringValue else {
                            problems(RecordProblem(location, "manifest entry \(taskID) is not a path"))
                            continue
                        }
                        entries.append(ManifestEntry(taskID: taskID, path: clip, location: location))
                    }
                } else if let taskID = (value["task_id"] ?? value["taskID"] ?? value["id"])?.stringValue {
                    entries.append(
                        ManifestEntry(
                            taskID: taskID, path: (value["path"] ?? value["file"] ?? value["clip"])?.stringValue,
                            model: value["model"]?.stringValue, provider: value["provider"]?.stringValue,
                            location: location))
                } else {
                    problems(RecordProblem(location, "manifest entry without task_id"))
                }
            }
        } catch let error as JSONSyntaxError {
            throw RecordsUnreadable(.invalidManifest, path: path, reason: "line \(error.line): not valid JSON: \(error.message)")
        }
        return entries
    }

    private static func headerFields(_ data: Data) -> [String] {
        var header: [String] = []
        CSV.forEachLine(of: data) { number, line in
            if number == 1 { header = (try? CSV.fields(line)) ?? [] }
        }
        return header
    }
}
