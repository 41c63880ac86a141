import ClipKitCore
import Foundation

/// Reads ClipKit's own `NAME.task.json` (see `TaskRecord`), written by the provider clients.
enum TaskRecordParsing {
    static func parse(_ json: JSONValue, at location: RecordLocation) -> RecordItem {
        let record: TaskRecord
        do {
            let data = try JSONEncoder().encode(json)
            record = try TaskRecord.makeDecoder().decode(TaskRecord.self, from: data)
        } catch let DecodingError.keyNotFound(key, _) {
            return .problem(RecordProblem(location, "task record without \"\(key.stringValue)\""))
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.dataCorrupted(context) {
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return .problem(RecordProblem(location, "task record: bad \"\(path)\": \(context.debugDescription)"))
        } catch {
            return .problem(RecordProblem(location, "task record: \(error)"))
        }
        do {
            return .record(try normalise(record, at: location))
        } catch let error as DashScopeRecord.UsageError {
            return .problem(RecordProblem(location, "task \(record.taskID): \(error.message)"))
        } catch {
            return .problem(RecordProblem(location, "task \(record.taskID): \(error)"))
        }
    }

    /// The billing facts of a task record. Usage is read as the provider wrote it: DashScope's
    /// shapes give billed seconds and tier; ModelVerse's `usage.duration` is execution time only.
    /// - Throws: `DashScopeRecord.UsageError` for a usage object with a non-numeric field.
    static func normalise(_ record: TaskRecord, at location: RecordLocation) throws -> BillingRecord {
        let provider = record.provider.lowercased()
        let status = record.status.map { TaskStatus($0, provider: provider) }
        var usage = DashScopeRecord.Usage(empty: ())
        var execution: Decimal?
        if provider == "modelverse" {
            execution = record.usage?["duration"]?.decimalValue
        } else {
            usage = try DashScopeRecord.Usage(record.usage)
        }
        let code = record.error?.code
        let folder = (location.file as NSString).deletingLastPathComponent
        var hint: String?
        if let file = record.outputFile, !file.isEmpty {
            hint = file.hasPrefix("/") ? file : (folder as NSString).appendingPathComponent(file)
        } else if location.file.hasSuffix(TaskRecord.fileSuffix) {
            hint = String(location.file.dropLast(TaskRecord.fileSuffix.count))
        }
        return BillingRecord(
            location: location, format: .taskRecord, taskID: record.taskID, provider: provider, model: record.model,
            status: status, providerStatus: record.status, errorCode: code, errorMessage: record.error?.message,
            contentFlagged: record.contentFlagged ?? code.map(DashScopeRecord.contentCodes.contains) ?? false,
            tier: usage.tier ?? RequestParameters.tier(record.request), billedSeconds: usage.billedSeconds,
            outputSeconds: usage.outputSeconds, requestedSeconds: RequestParameters.duration(record.request),
            outputURLs: [record.outputURL].compactMap { $0 }, executionSeconds: execution,
            audioRequested: RequestParameters.audio(record.request), clipHint: hint,
            charged: usage.isCharged || (usage.billedSeconds == nil && status == .succeeded))
    }
}

extension DashScopeRecord.Usage {
    init(empty: Void) {}
}
