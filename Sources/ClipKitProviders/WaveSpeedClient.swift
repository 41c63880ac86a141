import ClipKitCore
import Foundation

/// WaveSpeedAI v3: `POST {base}/api/v3/{model-path}` (optionally `?webhook=URL`), results from
/// `GET {base}/api/v3/predictions/{id}/result`, local images through `POST /api/v3/media/upload/binary`,
/// history (for a lost submit answer) from `POST /api/v3/predictions`. There is no documented cancel.
public struct WaveSpeedClient: VideoProvider {
    public static let defaultBaseURL = "https://api.wavespeed.ai"

    public let name = "wavespeed"
    public let endpoint: String
    public var supportsCancel: Bool { false }
    public var supportsTaskListing: Bool { true }
    /// Where WaveSpeed should POST the finished prediction (signed; see `WebhookVerifier`).
    public var webhookURL: String?
    public let media: any MediaToolkit
    private let api: APICaller

    public init(baseURL: String = defaultBaseURL, apiKey: APIKey, transport: HTTPTransport,
                media: any MediaToolkit, retry: RetryPolicy = RetryPolicy(), webhookURL: String? = nil) {
        endpoint = trimmedBase(baseURL)
        self.media = media
        self.webhookURL = webhookURL
        api = APICaller(provider: "wavespeed", transport: transport, authorization: "Bearer \(apiKey.secret)", retry: retry)
    }

    public func prepare(_ request: GenerationRequest) async throws -> PreparedSubmission {
        var body: [String: JSONValue?] = [
            "prompt": .string(request.prompt), "negative_prompt": .string(request.negativePrompt),
            "duration": .int(request.duration), "seed": .int(request.seed),
            "enable_prompt_expansion": .bool(request.promptExtend),
        ]
        if let first = request.firstImage { body["image"] = .string(try await imageURL(first)) }
        if let last = request.lastImage { body["last_image"] = .string(try await imageURL(last)) }
        if let size = request.size {
            body["size"] = .string(size)
        } else if request.mode == .t2v || request.model.hasSuffix("/image-to-video"), let tier = request.resolution {
            body["size"] = .string("\(tier.defaultSize.width)*\(tier.defaultSize.height)")
        }
        for (key, value) in request.extraParameters { body[key] = value }
        var url = "\(endpoint)/api/v3/\(request.model)"
        if let webhookURL { url += "?webhook=\(queryEscaped(webhookURL))" }
        return PreparedSubmission(model: request.model, prompt: request.prompt, body: .object(dropping: body), url: url)
    }

    /// Uploads a local image (once, before submitting) and returns its `download_url`.
    private func imageURL(_ image: ImageInput) async throws -> String {
        if case .url(let url) = image { return url }
        let encoded = try ImagePreparation.encode(image, provider: name, media: media)!
        let boundary = "clipkit-\(UUID().uuidString)"
        let ext = encoded.mimeType == "image/png" ? "png" : "jpg"
        var form = Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"frame.\(ext)\"\r\n".utf8)
        form.append(Data("Content-Type: \(encoded.mimeType)\r\n\r\n".utf8))
        form.append(encoded.data)
        form.append(Data("\r\n--\(boundary)--\r\n".utf8))
        let operation = "media upload of \(image.label)"
        // Uploading twice is harmless (it only stores a file), so retries are safe here.
        let reply = try await api.transport.performRetrying(
            method: .POST, url: "\(endpoint)/api/v3/media/upload/binary",
            headers: api.headers + [("Content-Type", "multipart/form-data; boundary=\(boundary)")],
            body: form, provider: name, operation: operation, policy: api.retry)
        guard reply.status == 200, let url = reply.json?["data"]?.text("download_url") else {
            throw api.failure(reply, operation: operation, error: Self.errorFields)
        }
        return url
    }

    public func submitOnce(_ submission: PreparedSubmission) async throws -> SubmittedTask {
        try await api.submit(submission, taskID: { json in
            // WaveSpeed wraps answers in {code, message, data}; a non-200 code inside a 200 is a refusal.
            if let code = json.text("code"), code != "200" { return nil }
            return json["data"]?.text("id")
        }, status: { $0["data"]?.text("status") }, error: Self.errorFields)
    }

    public func status(taskID: String) async throws -> TaskSnapshot {
        let operation = "result of prediction \(taskID)"
        let reply = try await api.call(.GET, "\(endpoint)/api/v3/predictions/\(queryEscaped(taskID))/result", operation: operation)
        if reply.status == 404 {
            return TaskSnapshot(status: "not found", state: .unknown,
                                error: TaskRecord.TaskError(code: "404", message: Self.errorFields(reply.json).1))
        }
        guard reply.status == 200, let data = reply.json?["data"], let status = data.text("status") else {
            if reply.status == 200 {
                throw ProviderError.badResponse(provider: name, operation: operation, "no data.status in \(reply.excerpt)")
            }
            throw api.failure(reply, operation: operation, error: Self.errorFields)
        }
        let flags = data["has_nsfw_contents"]?.arrayValue?.compactMap(\.boolValue)
        let error = data.text("error")
        return TaskSnapshot(
            status: status, state: TaskStatus(status, vocabulary: .waveSpeed), outputURL: data["outputs"]?.arrayValue?.first?.stringValue,
            usage: nil, contentFlagged: flags.map { $0.contains(true) },
            error: error.map { TaskRecord.TaskError(code: status == "completed" ? nil : status, message: $0) })
    }

    public func cancel(taskID: String) async throws {
        throw ProviderError.cancelUnsupported(provider: name, taskID: taskID, "WaveSpeed v3 documents no cancel operation")
    }

    public func recentTasks(model: String, since: Date) async throws -> [ListedTask] {
        let operation = "prediction history"
        let formatter = ISO8601DateFormatter()
        let body: JSONValue = .object([
            "page": .number(1), "page_size": .number(100), "model": .string(model),
            "created_after": .string(formatter.string(from: since)),
        ])
        let reply = try await api.call(.POST, "\(endpoint)/api/v3/predictions", json: body, operation: operation)
        guard reply.status == 200, let items = reply.json?["data"]?["items"]?.arrayValue else {
            throw api.failure(reply, operation: operation, error: Self.errorFields)
        }
        return items.compactMap { item in
            guard let id = item.text("id") else { return nil }
            let created = item.text("created_at").flatMap { Self.parseTime($0) }
            return ListedTask(taskID: id, model: item.text("model"), createdAt: created, prompt: item["input"]?.text("prompt"))
        }
    }

    /// `{code, message}` of an error answer.
    static func errorFields(_ json: JSONValue?) -> (String?, String?) {
        guard let json else { return (nil, nil) }
        return (json.text("code"), json.text("message") ?? json["data"]?.text("error"))
    }

    /// `2025-05-19T06:09:15.948268264Z`: ISO 8601 with up to nanoseconds.
    static func parseTime(_ text: String) -> Date? {
        // ISO8601DateFormatter takes at most milliseconds: cut the fraction to three digits.
        var trimmed = text
        if let dot = text.firstIndex(of: "."), let zone = text[dot...].firstIndex(where: { $0 == "Z" || $0 == "+" || $0 == "-" }) {
            let fraction = text[text.index(after: dot)..<zone].prefix(3)
            trimmed = String(text[..<dot]) + "." + fraction + String(text[zone...])
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: trimmed) { return date }
        return ISO8601DateFormatter().date(from: text)
    }
}
