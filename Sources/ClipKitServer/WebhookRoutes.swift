import ClipKitCore
import ClipKitLedger
import ClipKitProviders
import ClipKitService
import Foundation
import Hummingbird

struct WebhookAnswer: Encodable {
    var delivery: String
    /// True when this webhook id was recorded before: acknowledged, nothing done again.
    var duplicate: Bool
    /// Whether the ledger knows the task the delivery names.
    var taskKnown: Bool
}

extension Routes {
    /// `POST /v1/webhooks/wavespeed`: checks the signature over the raw body (and the timestamp within
    /// 300 s), records the delivery once per `webhook-id` and enqueues one `task.webhook` job for it, in one
    /// transaction (shared with the deliveries arriving meanwhile); the work happens in the job (`TaskService`: it polls the task rather than trust the body). A delivery for a task the ledger does not know is recorded too.
    @Sendable func waveSpeedWebhook(_ request: Request, _ context: ServerContext) async throws -> Response {
        guard let secret = configuration.webhookSecret, !secret.isEmpty else {
            throw APIError(.serviceUnavailable, "notConfigured", "the server has no WAVESPEED_WEBHOOK_SECRET; it cannot check webhooks")
        }
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        let body = Data(buffer: buffer)
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        do {
            try WebhookVerifier(secret: secret).verify(body: body, headers: headers)
        } catch let rejection as WebhookVerifier.Rejection {
            metrics.webhook("rejected")
            throw APIError(.unauthorized, rejection.code.rawValue, rejection.description)
        }
        let webhookID = headers["webhook-id"] ?? ""
        // WaveSpeed sends the prediction itself; some deliveries wrap it in "data".
        let json = try? JSONDecoder().decode(JSONValue.self, from: body)
        let providerTaskID = (json?["data"]?["id"] ?? json?["id"])?.stringValue
        let recorded = try await webhookIntake.perform(
            ArrivedWebhook(provider: "wavespeed", webhookID: webhookID, providerTaskID: providerTaskID,
                           body: String(decoding: body, as: UTF8.self)))
        metrics.webhook(recorded.isNew ? "accepted" : "duplicate")
        return jsonResponse(WebhookAnswer(delivery: recorded.delivery.id, duplicate: !recorded.isNew,
                                          taskKnown: recorded.delivery.taskID != nil))
    }

    /// Records deliveries (once per webhook id) with their `task.webhook` jobs, many to a transaction:
    /// a burst of deliveries costs a few commits, and each is answered once its own is committed.
    static func webhookIntake(store: any LedgerStore, tasks: TaskService?) -> GroupCommit<ArrivedWebhook, RecordedWebhook> {
        GroupCommit(store: store) { arrived, tx in
            let recorded = try await tx.recordWebhook(provider: arrived.provider, webhookID: arrived.webhookID,
                                                      providerTaskID: arrived.providerTaskID, body: arrived.body)
            if recorded.isNew {
                if let tasks { try await tasks.enqueueWebhook(recorded.delivery, in: tx) } else {
                    try await TaskService.enqueueWebhook(recorded.delivery, in: tx)
                }
            }
            return RecordedWebhook(delivery: recorded.delivery, isNew: recorded.isNew)
        }
    }
}

/// A delivery whose signature checked out, to be recorded.
struct ArrivedWebhook: Sendable {
    var provider: String
    var webhookID: String
    var providerTaskID: String?
    var body: String
}

struct RecordedWebhook: Sendable {
    var delivery: WebhookDelivery
    /// False when its webhook id was recorded before.
    var isNew: Bool
}
