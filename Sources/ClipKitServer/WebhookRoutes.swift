import ClipKitCore
import ClipKitLedger
import ClipKitProviders
import ClipKitService
import Foundation
import Hummingbird

extension Routes {
    /// `POST /v1/webhooks/wavespeed`: checks the signature over the raw body (and the timestamp within
    /// 300 s), records the delivery once per `webhook-id` and enqueues it, in one transaction shared with the
    /// deliveries arriving meanwhile (one `task.webhook` job for them all); the work happens in the job
    /// (`TaskService`: it polls the task rather than trust the body). A delivery for a task the ledger
    /// does not know is recorded too.
    @Sendable func waveSpeedWebhook(_ request: Request, _ context: ServerContext) async throws -> Response {
        guard let verifier = webhookVerifier else {
            throw APIError(.serviceUnavailable, "notConfigured", "the server has no WAVESPEED_WEBHOOK_SECRET; it cannot check webhooks")
        }
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        let body = Data(buffer: buffer)
        var headers: [String: String] = [:]
        for name in Self.signatureHeaders { headers[name.canonicalName] = request.headers[name] }
        do {
            try verifier.verify(body: body, headers: headers)
        } catch let rejection as WebhookVerifier.Rejection {
            metrics.webhook(.rejected)
            throw APIError(.unauthorized, rejection.code.rawValue, rejection.description)
        }
        let webhookID = headers["webhook-id"] ?? ""
        let providerTaskID = Self.deliveredTaskID(body)
        let recorded = try await webhookIntake.perform(
            ArrivedWebhook(provider: "wavespeed", webhookID: webhookID, providerTaskID: providerTaskID,
                           body: String(decoding: body, as: UTF8.self)))
        metrics.webhook(recorded.isNew ? .accepted : .duplicate)
        // `duplicate`: this webhook id was recorded before (acknowledged, nothing done again); `taskKnown`:
        // the ledger knows the task the delivery names.
        return jsonResponse(.object(["delivery": .string(recorded.delivery.id), "duplicate": .bool(!recorded.isNew),
                                     "taskKnown": .bool(recorded.delivery.taskID != nil)]))
    }

    /// The headers `WebhookVerifier` reads (only these are copied out of a delivery's).
    static let signatureHeaders = ["webhook-id", "webhook-timestamp", "webhook-signature"].map { HTTPFields.Element.Name($0)! }

    /// Records deliveries (once per webhook id) and one `task.webhook` job for the new ones, many to a
    /// transaction and a few statements: a burst of deliveries costs a few commits, and each is answered
    /// once its own is committed.
    static func webhookIntake(store: any LedgerStore, tasks: TaskService?) -> GroupCommit<ArrivedWebhook, RecordedWebhook> {
        let maxAttempts = tasks?.configuration.maxAttempts ?? TaskService.Configuration().maxAttempts
        return GroupCommit(store: store) { arrivals, tx in
            let recorded = try await tx.recordWebhooks(arrivals)
            try await TaskService.enqueueWebhooks(recorded.filter(\.isNew).map(\.delivery), maxAttempts: maxAttempts, in: tx)
            return recorded
        }
    }
}

extension Routes {
    /// The task a WaveSpeed delivery names: the prediction's "id", or "data.id" when the delivery wraps the
    /// prediction in "data"; nil when the body is not JSON or names none (the whole body is kept as it came).
    static func deliveredTaskID(_ body: Data) -> String? {
        guard let prediction = try? JSONValue(parsing: body) else { return nil }
        if case .string(let id)? = prediction["data"]?["id"] { return id }
        if case .string(let id)? = prediction["id"] { return id }
        return nil
    }
}
