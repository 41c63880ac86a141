import ClipKitCore
import Foundation

/// Reads and writes `NAME.task.json` atomically.
public enum RecordFile {
    /// Writes `record` to `path` through a temporary file (replacing any previous version).
    /// - Throws: `OutputFileError`.
    public static func write(_ record: TaskRecord, to path: String) throws {
        let data = try TaskRecord.makeEncoder().encode(record)
        try OutputFile(path, overwrite: true).write(data + Data("\n".utf8))
    }

    /// Reads a record written by `write`.
    /// - Throws: `ProviderError.recordUnreadable` naming the file.
    public static func read(_ path: String) throws -> TaskRecord {
        do {
            return try TaskRecord.makeDecoder().decode(TaskRecord.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw ProviderError.recordUnreadable(path: path, "\(error)")
        }
    }
}
