import ClipKitAudit
import ClipKitCore
import ClipKitLedger
import ClipKitMedia
import ClipKitProviders
import ClipKitService
import Crypto
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
        let key = try idempotencyKey(request)
        let body = try await decodedBody(TaskRequest.self, of: request, context, what: "a task request (provider, prompt, …)")
        return try await refusingAsAPIErrors {
            jsonResponse(try await tasks.submit(body, idempotencyKey: key), status: .accepted)
        }
    }

    /// Runs a task or chain request, answering the service's refusals as API errors: 400 for a bad request,
    /// 422 when it cannot be priced under a budget, 402 past a budget.
    func refusingAsAPIErrors(_ body: () async throws -> Response) async throws -> Response {
        do {
            return try await body()
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
        return jsonResponse(TaskList(tasks: try await tasks.tasks(status: status, since: try time(request, "since"), limit: limit)))
    }

    /// `GET /v1/audit?from=&to=&provider=&format=json|csv|html`: the billing audit of the ledger's tasks
    /// (created in `from..<to`, of one provider) against their clips, the report `clipkit audit` prints.
    @Sendable func audit(_ request: Request, _ context: ServerContext) async throws -> Response {
        let (audit, format) = try ledgerAudit(request)
        let query = request.uri.queryParameters
        let report = try await audit.run(from: try time(request, "from") ?? time(request, "since"), to: try time(request, "to"),
                                         provider: query["provider"].map(String.init)) { try await MediaProbe.probeAll($0) }
        return reportResponse(report, format: format)
    }

    /// `POST /v1/bills?format=`: a provider's bill or responses (JSON, JSON Lines, or CSV with
    /// `Content-Type: text/csv`), as `clipkit audit --records` reads them, reconciled against the ledger:
    /// the bill's charges are checked against the clips the ledger holds. Its findings are recorded once
    /// per bill (batch `bill:SHA256`, so posting the same bill again records nothing new).
    @Sendable func reconcileBill(_ request: Request, _ context: ServerContext) async throws -> Response {
        let (audit, format) = try ledgerAudit(request)
        let body = Data(buffer: try await request.body.collect(upTo: context.maxUploadSize))
        guard !body.isEmpty else { throw APIError.badRequest("the body is empty: send the bill's records") }
        let type = request.headers[.contentType]?.lowercased() ?? ""
        let name = type.contains("csv") ? "bill.csv" : type.contains("ndjson") || type.contains("jsonl") ? "bill.jsonl" : "bill.json"
        var bill: [RecordItem] = []
        RecordReader.read(data: body, file: name) { bill.append($0) }
        guard bill.contains(where: { if case .record = $0 { true } else { false } }) else {
            let problem = bill.lazy.compactMap { if case .problem(let problem) = $0 { problem.description } else { nil } }.first
            throw APIError(.unprocessableContent, "unreadableBill",
                           "the body holds no billing record ClipKit reads" + (problem.map { ": " + $0 } ?? ""))
        }
        let report = try await audit.run(bill: bill) { try await MediaProbe.probeAll($0) }
        let batch = "bill:" + SHA256.hash(data: body).map { String(format: "%02x", $0) }.joined()
        try await store.transaction { tx in
            if try await tx.findings(batch: batch, limit: 1).isEmpty, !report.findings.isEmpty {
                try await tx.recordFindings(report.findings, batch: batch)
            }
        }
        var response = reportResponse(report, format: format)
        response.headers[batchField] = batch
        return response
    }

    /// The audit over this server's ledger and data, and the report format asked for (`format`, json by default).
    private func ledgerAudit(_ request: Request) throws -> (LedgerAudit, ReportFormat) {
        let text = request.uri.queryParameters["format"].map(String.init) ?? "json"
        guard let format = ReportFormat(rawValue: text), format != .table else {
            throw APIError.badRequest("format must be json, csv or html, not '\(text)'")
        }
        let prices = tasks?.configuration.priceBook ?? .builtIn
        return (LedgerAudit(ledger: store, dataDirectory: data.root, priceBook: prices), format)
    }

    private func reportResponse(_ report: AuditReport, format: ReportFormat) -> Response {
        let type = switch format {
        case .csv: "text/csv; charset=utf-8"
        case .html: "text/html; charset=utf-8"
        default: "application/json; charset=utf-8"
        }
        return Response(status: .ok, headers: [.contentType: type], body: ResponseBody(byteBuffer: ByteBuffer(string: format.render(report))))
    }

    /// A query parameter that is an ISO 8601 time (RFC 3339), with or without fractional seconds.
    private func time(_ request: Request, _ name: String) throws -> Date? {
        try request.uri.queryParameters[Substring(name)].map { text -> Date in
            let fractional = ISO8601DateFormatter()
            fractional.formatOptions.insert(.withFractionalSeconds)
            guard let date = ISO8601DateFormatter().date(from: String(text)) ?? fractional.date(from: String(text)) else {
                throw APIError.badRequest("\(name) must be an ISO 8601 time such as 2026-12-01T00:00:00Z, not '\(text)'")
            }
            return date
        }
    }

    func requireTasks() throws -> TaskService {
        guard let tasks else {
            throw APIError(.serviceUnavailable, "notConfigured", "this server was started without a task service")
        }
        return tasks
    }
}
