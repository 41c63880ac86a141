import ClipKitCore
import Foundation

/// ModelVerse task status responses (`GET /v1/tasks/status`) and submit responses.
///
/// Its `usage.duration` is the task's EXECUTION time in seconds, not the video's length. It is kept
/// as `executionSeconds` and never read as billed seconds: a 143 s run of a 5 s clip bills one clip.
enum ModelVerseRecord {
    static let statuses: Set<String> = [
        "Pending", "Running", "Success", "Failure", "Failed", "Expired", "Cancelled", "Canceled",
    ]

    static func parse(_ json: JSONValue, at location: RecordLocation) -> RecordItem {
        guard let output = json["output"], let taskID = output["task_id"]?.stringValue, !taskID.isEmpty else {
            return .problem(RecordProblem(location, "ModelVerse response without output.task_id"))
        }
        let providerStatus = output["task_status"]?.stringValue
        let status = providerStatus.map { TaskStatus($0, vocabulary: .modelVerse) }
        var urls: [String] = []
        if let raw = output["urls"], !raw.isNull {
            guard let items = raw.arrayValue else {
                return .problem(RecordProblem(location, "task \(taskID): output.urls is not an array"))
            }
            urls = items.compactMap(\.stringValue)
        }
        var execution: Decimal?
        if let raw = json["usage"]?["duration"], !raw.isNull {
            guard let value = raw.decimalValue else {
                return .problem(RecordProblem(location, "task \(taskID): usage.duration is not a number"))
            }
            execution = value
        }
        let message = output["error_message"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        return .record(
            BillingRecord(
                location: location, format: providerStatus == nil ? .modelVerseCreate : .modelVerseStatus,
                taskID: taskID,
                provider: "modelverse", model: json["model"]?.stringValue ?? output["model"]?.stringValue,
                status: status, providerStatus: providerStatus,
                errorCode: output["error_code"]?.stringValue ?? (message == nil ? nil : providerStatus),
                errorMessage: message, outputURLs: urls, executionSeconds: execution,
                // ModelVerse bills a successful task; the status says nothing about how many seconds.
                // What `Expired` means for billing is not documented, so it implies no charge.
                charged: status == .succeeded))
    }
}
