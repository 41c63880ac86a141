import ClipKitCore
import Foundation

/// WaveSpeedAI v3 prediction results (`GET /api/v3/predictions/{id}/result`, wrapped in
/// `{code, message, data}`) and webhook bodies (the same fields at the top level, plus `input`).
enum WaveSpeedRecord {
    static func parse(_ json: JSONValue, at location: RecordLocation, webhook: Bool) -> RecordItem {
        let body = webhook ? json : (json["data"] ?? .null)
        guard let taskID = body["id"]?.stringValue, !taskID.isEmpty else {
            if !webhook, let code = json["code"]?.stringValue, code != "200" {
                return .ignored(location, "WaveSpeed error response \(code): \(json["message"]?.stringValue ?? "")")
            }
            return .problem(RecordProblem(location, "WaveSpeed prediction without an id"))
        }
        let providerStatus = body["status"]?.stringValue
        let status = providerStatus.map { TaskStatus($0, vocabulary: .waveSpeed) }
        var outputs: [String] = []
        if let raw = body["outputs"], !raw.isNull {
            guard let items = raw.arrayValue else {
                return .problem(RecordProblem(location, "prediction \(taskID): outputs is not an array"))
            }
            outputs = items.compactMap(\.stringValue)
        }
        var flagged = false
        if let raw = body["has_nsfw_contents"], !raw.isNull {
            guard let items = raw.arrayValue else {
                return .problem(RecordProblem(location, "prediction \(taskID): has_nsfw_contents is not an array"))
            }
            flagged = items.contains { $0.boolValue == true }
        }
        let input = body["input"]
        let error = body["error"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        return .record(
            BillingRecord(
                location: location, format: webhook ? .waveSpeedWebhook : .waveSpeedResult, taskID: taskID,
                provider: "wavespeed", model: body["model"]?.stringValue, status: status,
                providerStatus: providerStatus,
                errorCode: error == nil ? nil : providerStatus, errorMessage: error, contentFlagged: flagged,
                tier: RequestParameters.tier(input), requestedSeconds: input?["duration"]?.decimalValue,
                outputURLs: outputs,
                // WaveSpeed bills every completed prediction at its per-clip price.
                charged: status == .succeeded))
    }
}

/// Reads the billing-relevant request parameters wherever a provider puts them.
enum RequestParameters {
    /// `parameters.resolution` ("720P"), `resolution`, or `size` ("832*480", "832x480") placed by pixel area.
    static func tier(_ request: JSONValue?) -> Tier? {
        guard let request else { return nil }
        for scope in [request["parameters"], request] {
            if let text = scope?["resolution"]?.stringValue, let tier = Tier(parsing: text) { return tier }
            if let size = scope?["size"]?.stringValue {
                let parts = size.split(whereSeparator: { $0 == "*" || $0 == "x" || $0 == "X" || $0 == "×" })
                if parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]) {
                    return Tier.classify(width: w, height: h)
                }
            }
        }
        return nil
    }

    /// `parameters.duration` or `duration`.
    static func duration(_ request: JSONValue?) -> Decimal? {
        request?["parameters"]?["duration"]?.decimalValue ?? request?["duration"]?.decimalValue
    }

    /// `parameters.audio` or `audio` (wan2.5's switch).
    static func audio(_ request: JSONValue?) -> Bool? {
        request?["parameters"]?["audio"]?.boolValue ?? request?["audio"]?.boolValue
    }
}
