import ClipKitCore
import ClipKitMedia
import Foundation
import Hummingbird

/// ModelVerse: submit, status (Pending|Running|Success|Failure|Expired), cancel.
extension Handlers {
    func registerModelVerse(on router: Router<BasicRequestContext>) {
        router.post("/v1/tasks/submit") { request, _ in
            try await self.api(.modelverse, request, submit: true) { try await self.modelVerseSubmit(request) }
        }
        router.get("/v1/tasks/status") { request, _ in
            try await self.api(.modelverse, request) { try await self.modelVerseStatus(request.uri.queryParameters.get("task_id") ?? "") }
        }
        router.get("/v1/tasks/cancel") { request, _ in
            try await self.api(.modelverse, request) { try await self.modelVerseCancel(request.uri.queryParameters.get("task_id") ?? "") }
        }
    }

    private func modelVerseSubmit(_ request: Request) async throws -> Response {
        let body = try await Self.body(request)
        guard let model = body["model"]?.stringValue, let profile = ModelProfile.lookup(.modelverse, model: model) else {
            throw Refusal(status: .badRequest, code: "InvalidModel", message: "model \(body["model"]?.stringValue ?? "(none)") is not available")
        }
        let input = body["input"] ?? .object([:]), parameters = body["parameters"] ?? .object([:])
        let prompt = input["prompt"]?.stringValue ?? ""
        var first: RGBImage?, last: RGBImage?
        if profile.input == .text {
            guard !prompt.isEmpty else { throw Refusal(status: .badRequest, code: "InvalidParameter", message: "input.prompt is required") }
        } else {
            guard let url = input["image_url"]?.stringValue ?? input["first_frame_url"]?.stringValue else {
                throw Refusal(status: .badRequest, code: "InvalidParameter", message: "input.image_url is required")
            }
            first = try await image(url, field: "input.image_url")
            if let url = input["last_frame_url"]?.stringValue { last = try await image(url, field: "input.last_frame_url") }
        }
        let plan = TaskPlan(
            model: model, prompt: prompt, input: TaskRecord.sanitized(input), profile: profile, first: first, last: last,
            resolution: parameters["resolution"]?.stringValue, size: parameters["size"]?.stringValue,
            duration: parameters["duration"]?.decimalValue.map { NSDecimalNumber(decimal: $0).intValue },
            seed: parameters["seed"]?.decimalValue.map { NSDecimalNumber(decimal: $0).intValue }, audio: nil)
        let task = try await create(.modelverse, plan)
        if await state.draw("lostSubmit", rate: await state.faults.lostSubmitRate) { return lostAnswer() }
        return Self.json(.ok, .object([
            "output": .object(["task_id": .string(task.id)]), "request_id": .string(UUID().uuidString.lowercased()),
        ]))
    }

    private func modelVerseStatus(_ id: String) async throws -> Response {
        guard let task = await state.task(id), task.proto == .modelverse else {
            throw Refusal(status: .notFound, code: "TaskNotFound", message: "task \(id) not found")
        }
        let expired = await state.isExpired(task)
        var output: [String: JSONValue] = ["task_id": .string(task.id), "submit_time": .number(Decimal(Int(task.createdAt.timeIntervalSince1970)))]
        let status: String
        switch task.phase {
        case _ where expired: status = "Expired"
        case .queued: status = "Pending"
        case .running: status = "Running"
        case .succeeded: status = "Success"
        case .failed(_, let message):
            status = "Failure"
            output["error_message"] = .string(message)
        case .canceled: status = "Failure"
        }
        output["task_status"] = .string(status)
        if let ended = task.endedAt { output["finish_time"] = .number(Decimal(Int(ended.timeIntervalSince1970))) }
        if !expired, let url = await outputURL(task) { output["urls"] = .array([.string(url)]) }
        var body: [String: JSONValue] = ["output": .object(output), "request_id": .string("")]
        if let started = task.scheduledAt, let ended = task.endedAt {
            // Execution time in whole seconds, not the video's length.
            body["usage"] = .object(["duration": .number(Decimal(max(1, Int(ended.timeIntervalSince(started).rounded(.up)))))])
        }
        return Self.json(.ok, .object(body))
    }

    private func modelVerseCancel(_ id: String) async throws -> Response {
        guard await state.cancel(id) else {
            throw Refusal(status: .badRequest, code: "InvalidTaskStatus", message: "only Pending tasks can be cancelled")
        }
        return Self.json(.ok, .object(["request_id": .string(UUID().uuidString.lowercased())]))
    }
}
