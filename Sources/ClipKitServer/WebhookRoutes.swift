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
    /// transaction; the work happens in the job (`TaskService`: it polls the task rather than trust the body). A delivery for a task the ledger does not know is recorded too.
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
        let text = String(decoding: body, as: UTF8.self)
        let (delivery, isNew) = try await store.transaction { tx in
            let recorded = try await tx.recordWebhook(provider: "wavespeed", webhookID: webhookID, providerTaskID: providerTaskID, body: text)
            if recorded.isNew {
                if let tasks { try await tasks.enqueueWebhook(recorded.delivery, in: tx) } else {
                    try await TaskService.enqueueWebhook(recorded.delivery, in: tx)
                }
            }
            return recorded
        }
        metrics.webhook(isNew ? "accepted" : "duplicate")
        return jsonResponse(WebhookAnswer(delivery: delivery.id, duplicate: !isNew, taskKnown: delivery.taskID != nil))
    }
}
