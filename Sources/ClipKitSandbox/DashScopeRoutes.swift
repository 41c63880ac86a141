import ClipKitCore
import ClipKitMedia
import Foundation
import Hummingbird

/// DashScope's video synthesis protocol, at the root and under a router's `/alibailian` prefix.
extension Handlers {
    func registerDashScope(on router: Router<BasicRequestContext>) {
        for prefix in ["", "/alibailian"] {
            router.post("\(prefix)/api/v1/services/aigc/video-generation/video-synthesis") { request, _ in
                try await self.api(.dashscope, request, submit: true) { try await self.dashScopeCreate(request, image2video: false) }
            }
            router.post("\(prefix)/api/v1/services/aigc/image2video/video-synthesis") { request, _ in
                try await self.api(.dashscope, request, submit: true) { try await self.dashScopeCreate(request, image2video: true) }
            }
            router.get("\(prefix)/api/v1/tasks/:id") { request, context in
                try await self.api(.dashscope, request) { await self.dashScopeTask(context.parameters.get("id") ?? "") }
            }
            router.post("\(prefix)/api/v1/tasks/:id/cancel") { request, context in
                try await self.api(.dashscope, request) { try await self.dashScopeCancel(context.parameters.get("id") ?? "") }
            }
            router.get("\(prefix)/api/v1/tasks") { request, _ in
                try await self.api(.dashscope, request) { await self.dashScopeList(request) }
            }
        }
    }

    private func dashScopeCreate(_ request: Request, image2video: Bool) async throws -> Response {
        let asyncMode = request.headers.first { $0.name.canonicalName == "x-dashscope-async" }?.value
        guard asyncMode?.lowercased() == "enable" else {
            throw Refusal(status: .forbidden, code: "AccessDenied", message: "current user api does not support synchronous calls")
        }
        let body = try await Self.body(request)
        guard let model = body["model"]?.stringValue, !model.isEmpty else {
            throw Refusal(status: .badRequest, code: "InvalidParameter", message: "Field required: model")
        }
        guard let profile = ModelProfile.lookup(.dashscope, model: model) else {
            throw Refusal(status: .badRequest, code: "InvalidParameter", message: "Model not exist.")
        }
        guard profile.usesImage2VideoEndpoint == image2video else {
            throw Refusal(status: .badRequest, code: "InvalidParameter", message: "url error, please check url!")
        }
        let input = body["input"] ?? .object([:]), parameters = body["parameters"] ?? .object([:])
        let prompt = input["prompt"]?.stringValue ?? ""
        var first: RGBImage?, last: RGBImage?, voice: DecodedAudio?
        switch profile.input {
        case .text:
            guard !prompt.isEmpty else {
                throw Refusal(status: .badRequest, code: "InvalidParameter", message: "Field required: input.prompt")
            }
        case .image, .imageOrFirstLast:
            guard let url = input["img_url"]?.stringValue else {
                throw Refusal(status: .badRequest, code: "InvalidParameter", message: "Field required: input.img_url")
            }
            first = try await image(url, field: "input.img_url")
        case .firstLast:
            guard let firstURL = input["first_frame_url"]?.stringValue, let lastURL = input["last_frame_url"]?.stringValue else {
                throw Refusal(status: .badRequest, code: "InvalidParameter",
                              message: "Field required: input.first_frame_url and input.last_frame_url")
            }
            let firstImage = try await image(firstURL, field: "input.first_frame_url")
            let lastImage = try await image(lastURL, field: "input.last_frame_url")
            try Self.checkKeyframeLimits(firstImage, field: "input.first_frame_url")
            try Self.checkKeyframeLimits(lastImage, field: "input.last_frame_url")
            (first, last) = (firstImage, lastImage)
        case .portraitAndVoice:
            guard let imageURL = input["image_url"]?.stringValue else {
                throw Refusal(status: .badRequest, code: "InvalidParameter", message: "Field required: input.image_url")
            }
            guard let audioURL = input["audio_url"]?.stringValue else {
                throw Refusal(status: .badRequest, code: "InvalidParameter", message: "Field required: input.audio_url")
            }
            first = try await image(imageURL, field: "input.image_url")
            voice = try await audio(audioURL, field: "input.audio_url")
        }
        if let seed = parameters["seed"]?.decimalValue, !(0...2_147_483_647).contains(seed) {
            throw Refusal(status: .badRequest, code: "InvalidParameter", message: "parameters.seed must be in 0…2147483647")
        }
        let plan = TaskPlan(
            model: model, prompt: prompt, input: TaskRecord.sanitized(input), profile: profile, first: first, last: last,
            resolution: parameters["resolution"]?.stringValue, size: profile.input == .text ? parameters["size"]?.stringValue : nil,
            duration: parameters["duration"]?.decimalValue.map { NSDecimalNumber(decimal: $0).intValue },
            seed: parameters["seed"]?.decimalValue.map { NSDecimalNumber(decimal: $0).intValue },
            audio: parameters["audio"]?.boolValue, voice: voice)
        let task = try await create(.dashscope, plan)
        if await state.draw("lostSubmit", rate: await state.faults.lostSubmitRate) { return lostAnswer() }
        return Self.json(.ok, .object([
            "request_id": .string(UUID().uuidString.lowercased()),
            "output": .object(["task_id": .string(task.id), "task_status": .string("PENDING")]),
        ]))
    }

    private func dashScopeTask(_ id: String) async -> Response {
        guard let task = await state.task(id), !(await state.isExpired(task)) else {
            // DashScope answers 200 UNKNOWN for a task it does not know (or no longer keeps).
            return Self.json(.ok, .object([
                "request_id": .string(UUID().uuidString.lowercased()),
                "output": .object(["task_id": .string(id), "task_status": .string("UNKNOWN")]),
            ]))
        }
        var output: [String: JSONValue] = [
            "task_id": .string(task.id), "task_status": .string(Self.dashScopeStatus(task.phase)),
            "submit_time": .string(Self.chinaTime(task.createdAt)),
        ]
        if let scheduled = task.scheduledAt { output["scheduled_time"] = .string(Self.chinaTime(scheduled)) }
        if let ended = task.endedAt { output["end_time"] = .string(Self.chinaTime(ended)) }
        var body: [String: JSONValue] = ["request_id": .string(UUID().uuidString.lowercased())]
        switch task.phase {
        case .succeeded:
            output["video_url"] = .string(await outputURL(task) ?? "")
            output["orig_prompt"] = .string(task.prompt)
            output["actual_prompt"] = .string(task.prompt)
            body["usage"] = Self.dashScopeUsage(task)
        case .failed(let code, let message):
            output["code"] = .string(code)
            output["message"] = .string(message)
        default: break
        }
        body["output"] = .object(output)
        return Self.json(.ok, .object(body))
    }

    private func dashScopeCancel(_ id: String) async throws -> Response {
        guard await state.cancel(id) else {
            throw Refusal(status: .badRequest, code: "UnsupportedOperation",
                          message: "Failed to cancel the task, please confirm if the task is in PENDING status.")
        }
        return Self.json(.ok, .object(["request_id": .string(UUID().uuidString.lowercased())]))
    }

    private func dashScopeList(_ request: Request) async -> Response {
        let query = request.uri.queryParameters
        let from = query.get("start_time").flatMap(Self.listTime), to = query.get("end_time").flatMap(Self.listTime)
        let model = query.get("model_name"), status = query.get("status")
        let tasks = await state.allTasks().filter { task in
            task.proto == .dashscope && (model.map { $0 == task.model } ?? true)
                && (from.map { task.createdAt >= $0.addingTimeInterval(-1) } ?? true)
                && (to.map { task.createdAt <= $0.addingTimeInterval(1) } ?? true)
                && (status.map { $0 == Self.dashScopeStatus(task.phase) } ?? true)
        }
        let pageSize = max(1, min(100, query.get("page_size").flatMap { Int($0) } ?? 10))
        let page = max(1, query.get("page_no").flatMap { Int($0) } ?? 1)
        let items = tasks.dropFirst((page - 1) * pageSize).prefix(pageSize).map { task -> JSONValue in
            .object([
                "task_id": .string(task.id), "status": .string(Self.dashScopeStatus(task.phase)),
                "model_name": .string(task.model), "gmt_create": .string(Self.chinaTime(task.createdAt)),
                "start_time": .string(Self.chinaTime(task.createdAt)),
                "end_time": .string(task.endedAt.map(Self.chinaTime) ?? ""), "region": .string("sandbox"),
                "request_id": .string(UUID().uuidString.lowercased()),
            ])
        }
        return Self.json(.ok, .object([
            "request_id": .string(UUID().uuidString.lowercased()), "data": .array(Array(items)),
            "total": .number(Decimal(tasks.count)), "total_page": .number(Decimal((tasks.count + pageSize - 1) / pageSize)),
            "page_no": .number(Decimal(page)), "page_size": .number(Decimal(pageSize)),
        ]))
    }

    static func dashScopeStatus(_ phase: SandboxTask.Phase) -> String {
        switch phase {
        case .queued: "PENDING"
        case .running: "RUNNING"
        case .succeeded: "SUCCEEDED"
        case .failed: "FAILED"
        case .canceled: "CANCELED"
        }
    }

    /// The usage shapes DashScope has used, by model (see shared/providers.md): billed as asked,
    /// whatever was rendered.
    static func dashScopeUsage(_ task: SandboxTask) -> JSONValue {
        let seconds = task.billedSeconds
        let sr = Decimal(Int(task.tier.rawValue.dropLast())!)
        let ratio = OutputSize.ratio(task.spec.width, task.spec.height)
        switch task.usageVariant {
        case 0:
            return .object(["video_duration": .number(seconds), "video_count": .number(1), "SR": .number(sr),
                            "video_ratio": .string(ratio)])
        case 1:
            return .object(["video_count": .number(1), "video_duration": .number(seconds)])
        default:
            // The documented example writes these as floats (10.0); whole values encode here as 5.
            return .object(["duration": .number(seconds), "input_video_duration": .number(0),
                            "output_video_duration": .number(seconds), "video_count": .number(1), "SR": .number(sr),
                            "ratio": .string(ratio), "fps": .number(Decimal(task.spec.fps))])
        }
    }

    /// `2025-09-01 12:00:00.123` in China Standard Time, as DashScope writes task times.
    static func chinaTime(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(secondsFromGMT: 8 * 3600)
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss.SSS"
        return formatter.string(from: date)
    }

    /// The listing's `yyyyMMddHHmmss` (China Standard Time).
    static func listTime(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(secondsFromGMT: 8 * 3600)
        formatter.dateFormat = "yyyyMMddHHmmss"
        return formatter.date(from: text)
    }
}
