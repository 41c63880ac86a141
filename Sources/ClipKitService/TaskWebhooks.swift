import ClipKitCore
import ClipKitLedger
import Foundation

// A provider's completion webhook (WaveSpeed's) as a job. The webhook route verifies the signature,
// records the delivery (`recordWebhook`, deduplicated by its webhook id) and, when it is new, calls
// `enqueueWebhook` in the same transaction, then answers 2xx. The job treats the delivery as a prompt to
// look now: it polls the task at once rather than trusting the body, so a forged body that slipped
// through could change nothing, and a delivery racing the regular poll makes no second download (the
// download's unique key).
extension TaskService {
    struct WebhookPayload: Codable, Sendable {
        var delivery: String
        var provider: String
        var providerTaskID: String?

        /// What `JSONValue(encoding:)` makes of it, built directly: a burst's batch enqueues hundreds, and
        /// encoding to bytes and back was a tenth of the intake's time.
        var json: JSONValue {
            var object: [String: JSONValue] = ["delivery": .string(delivery), "provider": .string(provider)]
            if let providerTaskID { object["providerTaskID"] = .string(providerTaskID) }
            return .object(object)
        }
    }

    /// Enqueues the processing of a recorded delivery, once per delivery (`task.webhook:DELIVERY`).
    /// Call it in the transaction that recorded the delivery, only when `recordWebhook` said it is new.
    @discardableResult
    public func enqueueWebhook(_ delivery: WebhookDelivery, in tx: LedgerTransaction) async throws -> Enqueued {
        try await Self.enqueueWebhooks([delivery], maxAttempts: configuration.maxAttempts, in: tx)[0]
    }

    /// The same for many deliveries in one statement, for a front end that records deliveries without a
    /// service of its own (the jobs wait for a node that runs the service's handlers) or a burst's batch.
    @discardableResult
    public static func enqueueWebhooks(_ deliveries: [WebhookDelivery], maxAttempts: Int = Configuration().maxAttempts,
                                       in tx: LedgerTransaction) async throws -> [Enqueued] {
        try await tx.enqueue(deliveries.map { delivery in
            NewJob(
                kind: Kind.webhook,
                payload: WebhookPayload(delivery: delivery.id, provider: delivery.provider, providerTaskID: delivery.providerTaskID).json,
                // The delivery's id, not the provider's webhook id: ours grow with time, so a burst's keys go
                // to the end of the key index instead of to a page each (the delivery is once per webhook id).
                uniqueKey: "\(Kind.webhook):\(delivery.id)", maxAttempts: maxAttempts)
        })
    }

    /// Polls the delivery's task now (a poll job of its own) and marks the delivery processed. A delivery
    /// for a task the ledger does not know stays recorded and unmatched (`unmatchedWebhookDeliveries`).
    func webhookStep(_ context: JobContext) async throws {
        let payload = try context.job.payload(as: WebhookPayload.self)
        try await ledger.transaction { tx in
            guard let providerTaskID = payload.providerTaskID,
                  let task = try await tx.task(provider: payload.provider, providerTaskID: providerTaskID),
                  let submit = try await tx.job(uniqueKey: "\(Kind.submit):\(task.id)")
            else { return try await context.complete(in: tx) }
            let request = try submit.payload(as: StepPayload.self).request
            if task.clipID == nil, task.outputURL == nil {
                _ = try await tx.enqueue(try step(Kind.poll, task: task.id, request: request,
                                              key: "\(Kind.poll):\(task.id):webhook:\(payload.delivery)"))
            }
            try await tx.markWebhookProcessed(payload.delivery)
            try await context.complete(in: tx)
        }
    }
}
