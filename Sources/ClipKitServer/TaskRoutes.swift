import ClipKitAudit
import ClipKitCore
import ClipKitLedger
import ClipKitMedia
import ClipKitProviders
import ClipKitService
import Foundation
import Hummingbird

struct TaskList: Encodable {
    var tasks: [TaskSummary]
}

extension Routes {
    /// `POST /v1/tasks`: a generation request (`TaskRequest` as JSON). Recorded and queued at once: 202
    /// with the task, which the job worker then submits (once), polls, downloads, verifies and frames.
    /// `Idempotency-Key` makes a retried request answer the first task instead of paying for a second.
    @Sendable func createTask(_ request: Request, _ context: ServerContext) async throws -> Response {
        let tasks = try requireTasks()
        let key = request.headers[idempotencyKeyField].flatMap { $0.isEmpty ? nil : $0 }
        if let key, key.count > 255 { throw APIError.badRequest("Idempotency-Key is longer than 255 characters") }
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        let body: TaskRequest
        do {
            body = try JSONDecoder().decode(TaskRequest.self, from: buffer)
        } catch {
            throw APIError.badRequest("the body is not the JSON of a task request (provider, prompt, …): \(error)")
        }
        do {
            return jsonResponse(try await tasks.submit(body, idempotencyKey: key), status: .accepted)
        } catch let error as TaskServiceError {
            let status: HTTPResponse.Status = error.code == .unpriced ? .unprocessableContent : .badRequest
            throw APIError(status, error.code.rawValue, error.description)
        } catch let error as ProviderError {
            // Refusals before anything is sent (no key for the provider, a mode it does not offer).
            throw APIError(.badRequest, error.code.rawValue, error.description)
        } catch let error as LedgerError where error.code == .budgetExceeded || error.code == .currencyMismatch {
            throw APIError(.init(code: 402, reasonPhrase: "Payment Required"), error.code.rawValue, error.message)
        }
    }

    /// `GET /v1/tasks/{id}`: the task with its status history, usage, bill and clip.
    @Sendable func getTask(_ request: Request, _ context: ServerContext) async throws -> Response {
        let id = try context.parameters.require("id")
        guard let task = try await requireTasks().task(id: id) else { throw APIError.notFound("no task \(id)") }
        return jsonResponse(task)
    }

    /// `GET /v1/tasks?status=&since=&limit=`: newest first; `since` is an ISO 8601 time.
    @Sendable func listTasks(_ request: Request, _ context: ServerContext) async throws -> Response {
        let tasks = try requireTasks()
        let query = request.uri.queryParameters
        let status = query["status"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        let limit = try listLimit(request)
        return jsonResponse(TaskList(tasks: try await tasks.tasks(status: status, since: try since(request), limit: limit)))
    }

    /// `GET /v1/audit?since=`: the billing audit of the ledger's tasks (created since `since`) against
    /// their clips, the report `clipkit audit --format json` prints: findings with the money disputed.
    @Sendable func audit(_ request: Request, _ context: ServerContext) async throws -> Response {
        let tasks = try requireTasks()
        let audit = LedgerAudit(ledger: store, dataDirectory: data.root, priceBook: tasks.configuration.priceBook)
        let report = try await audit.run(since: try since(request)) { try await MediaProbe.probeAll($0) }
        return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: ReportFormat.json.render(report))))
    }

    /// The `since` query parameter: an ISO 8601 time.
    private func since(_ request: Request) throws -> Date? {
        try request.uri.queryParameters["since"].map { text -> Date in
            guard let date = ISO8601DateFormatter().date(from: String(text)) else {
                throw APIError.badRequest("since must be an ISO 8601 time such as 2026-12-01T00:00:00Z, not '\(text)'")
            }
            return date
        }
    }

    private func requireTasks() throws -> TaskService {
        guard let tasks else {
            throw APIError(.serviceUnavailable, "notConfigured", "this server was started without a task service")
        }
        return tasks
    }
}
