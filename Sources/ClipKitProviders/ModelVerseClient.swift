import ClipKitCore
import Foundation

/// ModelVerse: `POST {base}/v1/tasks/submit`, `GET {base}/v1/tasks/status?task_id=`,
/// `GET {base}/v1/tasks/cancel?task_id=`. The key goes in `Authorization` WITHOUT "Bearer".
/// Status words: Pending, Running, Success, Failure, Expired. `usage.duration` is the task's
/// execution time, not the video's length. There is no documented task listing, so a lost submit
/// answer cannot be recovered by lookup (see `TaskRunner`).
public struct ModelVerseClient: VideoProvider {
    public static let defaultBaseURL = "https://api.modelverse.cn"

    public let name = "modelverse"
    public let endpoint: String
    public var supportsCancel: Bool { true }
    public var supportsTaskListing: Bool { false }
    public let media: any MediaToolkit
    private let api: APICaller

    public init(baseURL: String = defaultBaseURL, apiKey: APIKey, transport: HTTPTransport,
                media: any MediaToolkit, retry: RetryPolicy = RetryPolicy()) {
        endpoint = trimmedBase(baseURL)
        self.media = media
        api = APICaller(provider: "modelverse", transport: transport, authorization: apiKey.secret, retry: retry)
    }

    public func prepare(_ request: GenerationRequest) async throws -> PreparedSubmission {
        var input: [String: JSONValue?] = ["prompt": .string(request.prompt), "negative_prompt": .string(request.negativePrompt)]
        switch request.mode {
        case .t2v: break
        case .i2v: input["image_url"] = .string(try imageURL(request.firstImage!))
        case .kf2v:
            guard let first = request.firstImage else {
                throw ProviderError.invalidRequest(provider: name, "kf2v needs a first frame as well as a last frame")
            }
            input["first_frame_url"] = .string(try imageURL(first))
            input["last_frame_url"] = .string(try imageURL(request.lastImage!))
        }
        var parameters: [String: JSONValue?] = [
            "resolution": .string(request.resolution?.rawValue), "duration": .int(request.duration),
            "seed": .int(request.seed), "prompt_extend": .bool(request.promptExtend),
            // ModelVerse writes sizes with an x: "832x480".
            "size": .string(request.size?.replacingOccurrences(of: "*", with: "x")),
        ]
        for (key, value) in request.extraParameters { parameters[key] = value }
        let body = JSONValue.object(dropping: [
            "model": .string(request.model), "input": .object(dropping: input), "parameters": .object(dropping: parameters),
        ])
        return PreparedSubmission(model: request.model, prompt: request.prompt, body: body, url: "\(endpoint)/v1/tasks/submit")
    }

    private func imageURL(_ image: ImageInput) throws -> String {
        if case .url(let url) = image { return url }
        return try ImagePreparation.encode(image, provider: name, media: media)!.dataURI
    }

    public func submitOnce(_ submission: PreparedSubmission) async throws -> SubmittedTask {
        try await api.submit(submission, taskID: { $0["output"]?.text("task_id") },
                             status: { $0["output"]?.text("task_status") }, error: Self.errorFields)
    }

    public func status(taskID: String) async throws -> TaskSnapshot {
        let operation = "status of task \(taskID)"
        let reply = try await api.call(.GET, "\(endpoint)/v1/tasks/status?task_id=\(queryEscaped(taskID))", operation: operation)
        guard reply.status == 200, let json = reply.json, let output = json["output"], let status = output.text("task_status") else {
            if reply.status == 200 {
                throw ProviderError.badResponse(provider: name, operation: operation, "no output.task_status in \(reply.excerpt)")
            }
            throw api.failure(reply, operation: operation, error: Self.errorFields)
        }
        let message = output.text("error_message")
        return TaskSnapshot(
            status: status, state: TaskStatus(status, vocabulary: .modelVerse), outputURL: output["urls"]?.arrayValue?.first?.stringValue,
            usage: json["usage"].flatMap { $0.isNull ? nil : $0 },
            contentFlagged: message.map(Self.isContentRefusal),
            error: message.map { TaskRecord.TaskError(code: output.text("error_code"), message: $0) })
    }

    public func cancel(taskID: String) async throws {
        let operation = "cancel of task \(taskID)"
        let reply = try await api.call(.GET, "\(endpoint)/v1/tasks/cancel?task_id=\(queryEscaped(taskID))", operation: operation)
        guard reply.status == 200 else {
            let (code, message) = Self.errorFields(reply.json)
            throw ProviderError.cancelUnsupported(provider: name, taskID: taskID,
                                                  [code, message].compactMap { $0 }.joined(separator: ": "))
        }
    }

    public func recentTasks(model: String, since: Date) async throws -> [ListedTask] {
        throw ProviderError.invalidRequest(provider: name, "ModelVerse documents no task listing")
    }

    /// ModelVerse reports moderation in prose; these words mark a content refusal.
    static func isContentRefusal(_ message: String) -> Bool {
        let lower = message.lowercased()
        return ["moderation", "sensitive", "nsfw", "inspection", "违规", "敏感"].contains { lower.contains($0) }
    }

    /// `{code, message}`, `{error: {code, message}}` or `{error_message}`: the docs show no error body.
    static func errorFields(_ json: JSONValue?) -> (String?, String?) {
        guard let json else { return (nil, nil) }
        let nested = json["error"]
        return (json.text("code") ?? nested?.text("code") ?? nested?.text("type"),
                json.text("message") ?? nested?.text("message") ?? json.text("error_message") ?? json.text("error"))
    }
}
