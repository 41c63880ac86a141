import ClipKitCore
import ClipKitMedia
import Foundation
import Hummingbird

/// WaveSpeed v3: submit per model path, results, media upload, history; webhooks on completion.
extension Handlers {
    func registerWaveSpeed(on router: Router<BasicRequestContext>) {
        router.post("/api/v3/media/upload/binary") { request, _ in
            try await self.api(.wavespeed, request) { try await self.waveSpeedUpload(request) }
        }
        router.post("/api/v3/predictions") { request, _ in
            try await self.api(.wavespeed, request) { try await self.waveSpeedHistory(request) }
        }
        for suffix in ["/result", ""] {
            router.get("/api/v3/predictions/:id\(suffix)") { request, context in
                try await self.api(.wavespeed, request) { try await self.waveSpeedResult(context.parameters.get("id") ?? "") }
            }
        }
        router.post("/api/v3/**") { request, context in
            let model = context.parameters.getCatchAll().joined(separator: "/")
            return try await self.api(.wavespeed, request, submit: true) { try await self.waveSpeedSubmit(request, model: model) }
        }
    }

    private func waveSpeedSubmit(_ request: Request, model: String) async throws -> Response {
        guard let profile = ModelProfile.lookup(.wavespeed, model: model) else {
            throw Refusal(status: .notFound, code: "404", message: "model \(model) not found")
        }
        let body = try await Self.body(request)
        let prompt = body["prompt"]?.stringValue ?? ""
        var first: RGBImage?, last: RGBImage?
        switch profile.input {
        case .text:
            guard !prompt.isEmpty else { throw Refusal(status: .badRequest, code: "400", message: "prompt is required") }
        case .image, .imageOrFirstLast, .firstLast:
            guard let url = body["image"]?.stringValue else {
                throw Refusal(status: .badRequest, code: "400", message: "image is required")
            }
            first = try await image(url, field: "image")
            if let url = body["last_image"]?.stringValue {
                guard profile.input == .imageOrFirstLast else {
                    throw Refusal(status: .badRequest, code: "400", message: "\(model) does not take last_image")
                }
                last = try await image(url, field: "last_image")
            }
        case .portraitAndVoice:
            throw Refusal(status: .notFound, code: "404", message: "model \(model) not found")  // WaveSpeed has no s2v
        }
        let plan = TaskPlan(
            model: model, prompt: prompt, input: TaskRecord.sanitized(body), profile: profile, first: first, last: last,
            resolution: nil, size: body["size"]?.stringValue,
            duration: body["duration"]?.decimalValue.map { NSDecimalNumber(decimal: $0).intValue },
            seed: body["seed"]?.decimalValue.map { NSDecimalNumber(decimal: $0).intValue }.flatMap { $0 < 0 ? nil : $0 },
            audio: nil, webhookURL: request.uri.queryParameters.get("webhook"))
        let task = try await create(.wavespeed, plan)
        if await state.draw("lostSubmit", rate: await state.faults.lostSubmitRate) { return lostAnswer() }
        return Self.json(.ok, .object([
            "code": .number(200), "message": .string("success"), "data": await waveSpeedPrediction(task, includeInput: false),
        ]))
    }

    private func waveSpeedResult(_ id: String) async throws -> Response {
        guard let task = await state.task(id), task.proto == .wavespeed, !(await state.isExpired(task)) else {
            throw Refusal(status: .notFound, code: "404", message: "prediction \(id) not found")
        }
        return Self.json(.ok, .object([
            "code": .number(200), "message": .string("success"), "data": await waveSpeedPrediction(task, includeInput: false),
        ]))
    }

    /// One prediction as results, history and webhooks show it.
    func waveSpeedPrediction(_ task: SandboxTask, includeInput: Bool) async -> JSONValue {
        let status: String, error: String
        switch task.phase {
        case .queued: (status, error) = ("created", "")
        case .running: (status, error) = ("processing", "")
        case .succeeded: (status, error) = ("completed", "")
        case .failed(_, let message): (status, error) = ("failed", message)
        case .canceled: (status, error) = ("cancelled", "")
        }
        let url = await outputURL(task)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let inference = task.scheduledAt.map { Int(((task.endedAt ?? Date()).timeIntervalSince($0) * 1000).rounded()) } ?? 0
        var prediction: [String: JSONValue] = [
            "id": .string(task.id), "model": .string(task.model),
            "outputs": .array(url.map { [.string($0)] } ?? []),
            "urls": .object(["get": .string("\(await state.baseURL)/api/v3/predictions/\(task.id)/result")]),
            "has_nsfw_contents": .array(url == nil ? [] : [.bool(task.outcome == .blocked)]),
            "status": .string(status), "created_at": .string(formatter.string(from: task.createdAt)),
            "error": .string(error), "timings": .object(["inference": .number(Decimal(inference))]),
        ]
        if includeInput { prediction["input"] = task.input }
        return .object(prediction)
    }

    private func waveSpeedHistory(_ request: Request) async throws -> Response {
        let body = try await Self.body(request)
        let pageSize = max(1, min(100, body["page_size"]?.decimalValue.map { NSDecimalNumber(decimal: $0).intValue } ?? 100))
        let page = max(1, body["page"]?.decimalValue.map { NSDecimalNumber(decimal: $0).intValue } ?? 1)
        let after = body["created_after"]?.stringValue.flatMap { ISO8601DateFormatter().date(from: $0) }
        let model = body["model"]?.stringValue
        let tasks = await state.allTasks().filter { task in
            task.proto == .wavespeed && (model.map { $0 == task.model } ?? true)
                && (after.map { task.createdAt >= $0.addingTimeInterval(-1) } ?? true)
        }
        var items: [JSONValue] = []
        for task in tasks.dropFirst((page - 1) * pageSize).prefix(pageSize) {
            items.append(await waveSpeedPrediction(task, includeInput: false))
        }
        return Self.json(.ok, .object([
            "code": .number(200), "message": .string("success"),
            "data": .object(["page": .number(Decimal(page)), "total": .number(Decimal(tasks.count)), "items": .array(items)]),
        ]))
    }

    /// `multipart/form-data` with a `file` part → `data.download_url` on the sandbox.
    private func waveSpeedUpload(_ request: Request) async throws -> Response {
        guard let type = request.headers[.contentType], type.hasPrefix("multipart/form-data"),
              let boundaryRange = type.range(of: "boundary=") else {
            throw Refusal(status: .badRequest, code: "400", message: "expected multipart/form-data with a file field")
        }
        let boundary = type[boundaryRange.upperBound...].trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
        var request = request
        let buffer = try await request.collectBody(upTo: 32 << 20)
        guard let part = Self.multipartFile(Data(buffer.readableBytesView), boundary: boundary) else {
            throw Refusal(status: .badRequest, code: "400", message: "no file field in the upload")
        }
        let ext = part.filename.lowercased().hasSuffix(".png") ? "png" : "jpg"
        let name = await state.storeMedia(part.data, ext: ext)
        return Self.json(.ok, .object([
            "code": .number(200), "message": .string("success"),
            "data": .object(["type": .string("image"), "download_url": .string("\(await state.baseURL)/media/\(name)"),
                             "filename": .string(part.filename), "size": .number(Decimal(part.data.count))]),
        ]))
    }

    /// The `file` part of a multipart body.
    static func multipartFile(_ body: Data, boundary: String) -> (filename: String, data: Data)? {
        let delimiter = Data("--\(boundary)".utf8)
        var parts: [Data] = []
        var searchStart = body.startIndex
        var previous: Data.Index?
        while let range = body.range(of: delimiter, in: searchStart..<body.endIndex) {
            if let previous { parts.append(body[previous..<range.lowerBound]) }
            previous = range.upperBound
            searchStart = range.upperBound
        }
        for part in parts {
            guard let split = part.range(of: Data("\r\n\r\n".utf8)) else { continue }
            let head = String(decoding: part[part.startIndex..<split.lowerBound], as: UTF8.self)
            guard head.contains("name=\"file\"") else { continue }
            var content = part[split.upperBound...]
            if content.suffix(2) == Data("\r\n".utf8) { content = content.dropLast(2) }
            var filename = "upload"
            if let range = head.range(of: "filename=\"") {
                filename = String(head[range.upperBound...].prefix { $0 != "\"" })
            }
            return (filename, Data(content))
        }
        return nil
    }
}
