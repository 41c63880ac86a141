import ClipKitAudit
import ClipKitCore
import ClipKitLedger
import Foundation
import Hummingbird

extension Routes {
    /// 200 while the process answers at all.
    @Sendable func health(_ request: Request, _ context: ServerContext) async throws -> Response {
        jsonResponse(["status": "ok"])
    }

    /// 200 when the database answers and holds this build's schema; 503 otherwise.
    @Sendable func ready(_ request: Request, _ context: ServerContext) async throws -> Response {
        do {
            let version = try await store.schemaVersion()
            guard version == Ledger.schemaVersion else {
                throw APIError(.serviceUnavailable, "schemaMismatch",
                               "the ledger is at schema \(version), this build needs \(Ledger.schemaVersion)")
            }
            return jsonResponse(ReadyBody(status: "ready", database: store.backend.rawValue, schemaVersion: version))
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError(.serviceUnavailable, "unavailable", "the ledger does not answer: \(error)")
        }
    }

    @Sendable func openAPI(_ request: Request, _ context: ServerContext) async throws -> Response {
        Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
    }

    /// `GET /v1/jobs?state=&kind=&limit=`: newest first.
    @Sendable func listJobs(_ request: Request, _ context: ServerContext) async throws -> Response {
        let query = request.uri.queryParameters
        var state: JobState?
        if let text = query["state"].map(String.init), !text.isEmpty {
            guard let parsed = JobState(rawValue: text) else {
                throw APIError.badRequest(
                    "state must be one of \(JobState.allCases.map(\.rawValue).joined(separator: ", ")), not '\(text)'")
            }
            state = parsed
        }
        let limit = try listLimit(request)
        let kind = query["kind"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        let jobs = try await store.jobs(state: state, kind: kind, limit: limit)
        return jsonResponse(JobList(jobs: jobs.map(JobBody.init)))
    }

    /// `GET /metrics`: Prometheus's text format (see `ServerMetrics`). Public, as health checks are: it
    /// shows counts and sums, never a task, a clip or a secret.
    @Sendable func prometheusMetrics(_ request: Request, _ context: ServerContext) async throws -> Response {
        Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: try await metrics.scrape(store))))
    }

    /// `GET /v1/budgets`: every budget with what is reserved by submissions not yet billed, spent, and left.
    @Sendable func listBudgets(_ request: Request, _ context: ServerContext) async throws -> Response {
        jsonResponse(BudgetList(budgets: try await store.budgets().map(BudgetBody.init)))
    }
}

struct BudgetList: Encodable {
    var budgets: [BudgetBody]
}

struct BudgetBody: Encodable {
    var name: String
    var limit: Money
    var reserved: Money
    var spent: Money
    var left: Money
    var updatedAt: Date

    init(_ budget: Budget) {
        (name, limit, reserved, spent, left, updatedAt) = (budget.name, budget.limit, budget.reserved, budget.spent, budget.left,
                                                           budget.updatedAt)
    }
}

struct ReadyBody: Encodable {
    var status: String
    var database: String
    var schemaVersion: Int
}

struct JobList: Encodable {
    var jobs: [JobBody]
}

/// A job as the API shows it (no lease token: that is the worker's alone).
struct JobBody: Encodable {
    var id: Int64
    var kind: String
    var state: String
    var uniqueKey: String?
    var attempts: Int
    var maxAttempts: Int
    var runAt: Date
    var createdAt: Date
    var updatedAt: Date
    var finishedAt: Date?
    var lastError: String?
    var payload: JSONValue

    init(_ job: Job) {
        id = job.id.rawValue
        kind = job.kind
        state = job.state.rawValue
        uniqueKey = job.uniqueKey
        attempts = job.attempts
        maxAttempts = job.maxAttempts
        runAt = job.runAt
        createdAt = job.createdAt
        updatedAt = job.updatedAt
        finishedAt = job.finishedAt
        lastError = job.lastError
        payload = job.payload
    }
}
