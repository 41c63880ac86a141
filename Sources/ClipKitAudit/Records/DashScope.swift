import ClipKitCore
import Foundation

/// Alibaba DashScope / Model Studio ("Bailian") task responses, as served by Alibaba and by the
/// routers that speak its protocol.
enum DashScopeRecord {
    /// Statuses DashScope writes, in upper case.
    static let statuses: Set<String> = ["PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELED", "UNKNOWN"]

    /// Error codes that mean the content was blocked rather than the task failing.
    static let contentCodes: Set<String> = ["DataInspectionFailed", "IPInfringementSuspect"]

    /// Parses a task-query response `{request_id, output:{task_id, task_status, video_url, code,
    /// message, …}, usage:{…}}` or a create response `{request_id, output:{task_id, task_status:"PENDING"}}`.
    static func parse(_ json: JSONValue, at location: RecordLocation) -> RecordItem {
        guard let output = json["output"], let taskID = output["task_id"]?.stringValue, !taskID.isEmpty else {
            return .problem(RecordProblem(location, "DashScope response without output.task_id"))
        }
        let providerStatus = output["task_status"]?.stringValue
        let status = providerStatus.map { TaskStatus($0, vocabulary: .dashScope) }
        let usage: Usage
        do {
            usage = try Usage(json["usage"])
        } catch let error as UsageError {
            return .problem(RecordProblem(location, "task \(taskID): \(error.message)"))
        } catch {
            return .problem(RecordProblem(location, "task \(taskID): \(error)"))
        }
        let errorCode = output["code"]?.stringValue ?? json["code"]?.stringValue
        let isCreate = json["usage"] == nil && status == .pending && output["submit_time"] == nil
        return .record(
            BillingRecord(
                location: location, format: isCreate ? .dashScopeCreate : .dashScopeTask, taskID: taskID,
                provider: "dashscope",
                // Query responses do not name the model; a router may add it. Otherwise it comes from a
                // bill, a manifest or a task record of the same task.
                model: json["model"]?.stringValue ?? output["model"]?.stringValue,
                status: status, providerStatus: providerStatus, errorCode: errorCode,
                errorMessage: output["message"]?.stringValue ?? json["message"]?.stringValue,
                contentFlagged: errorCode.map(contentCodes.contains) ?? false,
                tier: usage.tier, billedSeconds: usage.billedSeconds, outputSeconds: usage.outputSeconds,
                outputURLs: [output["video_url"]?.stringValue].compactMap { $0 },
                charged: usage.isCharged || (usage.billedSeconds == nil && status == .succeeded)))
    }

    struct UsageError: Error { var message: String }

    /// Every `usage` shape DashScope has used, with integers or floats (or numeric strings):
    /// `{video_duration, video_count, SR, video_ratio}`, `{video_count, video_duration}`, and
    /// `{duration, input_video_duration, output_video_duration, video_count, SR, ratio, fps}`.
    struct Usage {
        var billedSeconds: Decimal?
        var outputSeconds: Decimal?
        var videoCount: Decimal?
        var tier: Tier?

        init(_ usage: JSONValue?) throws {
            guard let usage, usage.objectValue != nil else { return }
            func number(_ key: String) throws -> Decimal? {
                guard let raw = usage[key], !raw.isNull else { return nil }
                guard let value = raw.decimalValue else {
                    throw UsageError(message: "usage.\(key) is not a number: \(raw.stringValue ?? "\(raw)")")
                }
                guard value >= 0 else { throw UsageError(message: "usage.\(key) is negative") }
                return value
            }
            let videoDuration = try number("video_duration")
            let duration = try number("duration")
            let input = try number("input_video_duration")
            let output = try number("output_video_duration")
            videoCount = try number("video_count")
            // Billing for the second shape: duration = input_video_duration + output_video_duration.
            if let duration {
                billedSeconds = duration
            } else if input != nil || output != nil {
                billedSeconds = (input ?? 0) + (output ?? 0)
            } else {
                billedSeconds = videoDuration
            }
            outputSeconds = output ?? videoDuration ?? duration
            if let sr = usage["SR"] ?? usage["sr"] ?? usage["resolution"], let text = sr.stringValue {
                guard let tier = Tier(parsing: text) else {
                    throw UsageError(message: "usage.SR is not a tier: \(text)")
                }
                self.tier = tier
            }
        }

        /// Usage with billed seconds, or a video count without them, means money was taken.
        var isCharged: Bool {
            if let billedSeconds { return billedSeconds > 0 }
            return (videoCount ?? 0) > 0
        }
    }
}
