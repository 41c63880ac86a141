import ClipKitCore
import Foundation

/// Alibaba DashScope / Model Studio ("Bailian") video synthesis, or a router speaking the same protocol
/// under a prefix (`https://router.example/alibailian`).
///
/// Create: `POST {base}/api/v1/services/aigc/video-generation/video-synthesis` (t2v, i2v) or
/// `…/image2video/video-synthesis` (kf2v), with `X-DashScope-Async: enable`. Query:
/// `GET {base}/api/v1/tasks/{id}`. Cancel (queued tasks only): `POST {base}/api/v1/tasks/{id}/cancel`.
/// Listing (for a lost submit answer): `GET {base}/api/v1/tasks?start_time&end_time&model_name&page_no&page_size`.
public struct DashScopeClient: VideoProvider {
    /// The official regions' API bases.
    public enum Region: String, Sendable, CaseIterable {
        case beijing = "https://dashscope.aliyuncs.com"
        case singapore = "https://dashscope-intl.aliyuncs.com"
        case us = "https://dashscope-us.aliyuncs.com"
    }

    public let name: String
    public let endpoint: String
    public var supportsCancel: Bool { true }
    public var supportsTaskListing: Bool { true }
    public let media: any MediaToolkit
    private let api: APICaller

    /// - Parameters:
    ///   - baseURL: a region's base or a router's base including its prefix.
    ///   - name: the provider name for records (`dashscope`, or a router's name).
    public init(baseURL: String = Region.beijing.rawValue, apiKey: APIKey, transport: HTTPTransport,
                media: any MediaToolkit, retry: RetryPolicy = RetryPolicy(), name: String = "dashscope") {
        self.name = name
        self.media = media
        endpoint = trimmedBase(baseURL)
        api = APICaller(provider: name, transport: transport, authorization: "Bearer \(apiKey.secret)", retry: retry)
    }

    public func prepare(_ request: GenerationRequest) async throws -> PreparedSubmission {
        var input: [String: JSONValue?] = ["prompt": .string(request.prompt), "negative_prompt": .string(request.negativePrompt)]
        var parameters: [String: JSONValue?] = [
            "duration": .int(request.duration), "seed": .int(request.seed),
            "prompt_extend": .bool(request.promptExtend), "audio": .bool(request.audio),
        ]
        let path: String
        switch request.mode {
        case .t2v:
            path = "/api/v1/services/aigc/video-generation/video-synthesis"
            if let size = request.size ?? request.resolution.map({ "\($0.defaultSize.width)*\($0.defaultSize.height)" }) {
                parameters["size"] = .string(size)
            }
        case .i2v:
            path = "/api/v1/services/aigc/video-generation/video-synthesis"
            input["img_url"] = .string(try imageURL(request.firstImage!))
            parameters["resolution"] = .string(request.resolution?.rawValue)
        case .kf2v:
            guard let first = request.firstImage else {
                throw ProviderError.invalidRequest(provider: name, "kf2v needs a first frame as well as a last frame")
            }
            path = "/api/v1/services/aigc/image2video/video-synthesis"
            input["first_frame_url"] = .string(try imageURL(first))
            input["last_frame_url"] = .string(try imageURL(request.lastImage!))
            parameters["resolution"] = .string(request.resolution?.rawValue)
        }
        for (key, value) in request.extraParameters { parameters[key] = value }
        let body = JSONValue.object(dropping: [
            "model": .string(request.model), "input": .object(dropping: input), "parameters": .object(dropping: parameters),
        ])
        return PreparedSubmission(model: request.model, prompt: request.prompt, body: body, url: endpoint + path)
    }

    private func imageURL(_ image: ImageInput) throws -> String {
        if case .url(let url) = image { return url }
        return try ImagePreparation.encode(image, provider: name, media: media)!.dataURI
    }

    public func submitOnce(_ submission: PreparedSubmission) async throws -> SubmittedTask {
        try await api.submit(submission, extraHeaders: [("X-DashScope-Async", "enable")],
                             taskID: { $0["output"]?.text("task_id") },
                             status: { $0["output"]?.text("task_status") }, error: Self.errorFields)
    }

    public func status(taskID: String) async throws -> TaskSnapshot {
        let operation = "status of task \(taskID)"
        let reply = try await api.call(.GET, "\(endpoint)/api/v1/tasks/\(queryEscaped(taskID))", operation: operation)
        guard reply.status == 200, let json = reply.json, let output = json["output"],
              let status = output.text("task_status") else {
            if reply.status == 200 {
                throw ProviderError.badResponse(provider: name, operation: operation, "no output.task_status in \(reply.excerpt)")
            }
            throw api.failure(reply, operation: operation, error: Self.errorFields)
        }
        let code = output.text("code"), message = output.text("message")
        return TaskSnapshot(
            status: status, state: TaskStatus(status, vocabulary: .dashScope), outputURL: output.text("video_url"),
            usage: json["usage"].flatMap { $0.isNull ? nil : $0 },
            contentFlagged: code.map(Self.contentCodes.contains),
            error: code == nil && message == nil ? nil : TaskRecord.TaskError(code: code, message: message))
    }

    public func cancel(taskID: String) async throws {
        let operation = "cancel of task \(taskID)"
        let reply = try await api.call(.POST, "\(endpoint)/api/v1/tasks/\(queryEscaped(taskID))/cancel", operation: operation)
        guard reply.status == 200 else {
            let (code, message) = Self.errorFields(reply.json)
            throw ProviderError.cancelUnsupported(provider: name, taskID: taskID,
                                                  [code, message].compactMap { $0 }.joined(separator: ": "))
        }
    }

    public func recentTasks(model: String, since: Date) async throws -> [ListedTask] {
        let operation = "task listing"
        let start = Self.listTime(since), end = Self.listTime(Date().addingTimeInterval(60))
        let url = "\(endpoint)/api/v1/tasks?start_time=\(start)&end_time=\(end)&model_name=\(queryEscaped(model))"
            + "&page_no=1&page_size=100"
        let reply = try await api.call(.GET, url, operation: operation)
        guard reply.status == 200, let json = reply.json else {
            throw api.failure(reply, operation: operation, error: Self.errorFields)
        }
        return (json["data"]?.arrayValue ?? []).compactMap { item in
            guard let id = item.text("task_id") else { return nil }
            let created = item.text("gmt_create") ?? item.text("start_time")
            return ListedTask(taskID: id, model: item.text("model_name"), createdAt: created.flatMap(Self.parseTime))
        }
    }

    /// Error codes that mean the content was refused, not that the service failed.
    static let contentCodes: Set<String> = ["DataInspectionFailed", "IPInfringementSuspect", "DataInspection.Failed"]

    /// `code`/`message` at the top level (creation errors) or under `output` (task failures).
    static func errorFields(_ json: JSONValue?) -> (String?, String?) {
        guard let json else { return (nil, nil) }
        return (json.text("code") ?? json["output"]?.text("code"), json.text("message") ?? json["output"]?.text("message"))
    }

    /// The listing's time parameters: `yyyyMMddHHmmss`. The documentation does not name a zone; the
    /// service is taken to use China Standard Time (UTC+8), as its task times do. Not verified live.
    static func listTime(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(secondsFromGMT: 8 * 3600)
        formatter.dateFormat = "yyyyMMddHHmmss"
        return formatter.string(from: date)
    }

    /// Parses `2025-09-01 12:00:00.123` (UTC+8) and ISO 8601.
    static func parseTime(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(secondsFromGMT: 8 * 3600)
        for format in ["yyyy-MM-dd HH:mm:ss.SSS", "yyyy-MM-dd HH:mm:ss", "yyyyMMddHHmmss"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: text) { return date }
        }
        return ISO8601DateFormatter().date(from: text)
    }
}
