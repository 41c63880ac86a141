import ClipKitCore
import ClipKitLedger
import Foundation

// A provider's completion webhook (WaveSpeed's) as a job. The webhook route verifies the signature,
// records the delivery (`recordWebhooks`, deduplicated by its webhook id) and, when it is new, enqueues it
// in the same transaction, then answers 2xx. The deliveries recorded together are one job: a job each
// took 40% of a burst's batch, while the whole burst waited for its commit, and then a claim and a run
// each while the next burst arrived. The job treats each delivery as a prompt to look now: it polls the
// task at once rather than trusting the body, so a forged body that slipped through could change nothing,
// and a delivery racing the regular poll makes no second download (the download's unique key).
extension TaskService {
    struct WebhookPayload: Codable, Sendable {
        struct Delivery: Codable, Sendable {
            var delivery: String
            var provider: String
            var providerTaskID: String?

            var json: JSONValue {
                var object: [String: JSONValue] = ["delivery": .string(delivery), "provider": .string(provider)]
                if let providerTaskID { object["providerTaskID"] = .string(providerTaskID) }
                return .object(object)
            }
        }

        var deliveries: [Delivery]

        init(_ deliveries: [WebhookDelivery]) {
            self.deliveries = deliveries.map { Delivery(delivery: $0.id, provider: $0.provider, providerTaskID: $0.providerTaskID) }
        }

        /// What `JSONValue(encoding:)` makes of it, built directly: encoding to bytes and back was a tenth
        /// of the intake's time.
        var json: JSONValue { .object(["deliveries": .array(deliveries.map(\.json))]) }

        private enum Key: String, CodingKey { case deliveries }

        /// Also a job enqueued before batches, whose payload is one delivery's fields.
        init(from decoder: any Decoder) throws {
            let object = try decoder.container(keyedBy: Key.self)
            deliveries = try object.decodeIfPresent([Delivery].self, forKey: .deliveries) ?? [Delivery(from: decoder)]
        }
    }

    /// Enqueues the processing of a recorded delivery (`task.webhook:DELIVERY`). Call it in the transaction
    /// that recorded the delivery, only when `recordWebhook` said it is new.
    @discardableResult
    public func enqueueWebhook(_ delivery: WebhookDelivery, in tx: LedgerTransaction) async throws -> Enqueued {
        try await Self.enqueueWebhooks([delivery], maxAttempts: configuration.maxAttempts, in: tx)!
    }

    /// The same for many deliveries as one job (nil for none), for a burst's batch or a front end that
    /// records deliveries without a service of its own (the job waits for a node that runs the handlers).
    /// Its key is the first delivery's id, which no other batch holds: our ids, not the provider's webhook
    /// ids, because ours grow with time and a burst's keys go to the end of the key index.
    @discardableResult
    public static func enqueueWebhooks(_ deliveries: [WebhookDelivery], maxAttempts: Int = Configuration().maxAttempts,
                                       in tx: LedgerTransaction) async throws -> Enqueued? {
        guard let first = deliveries.first else { return nil }
        return try await tx.enqueue(NewJob(kind: Kind.webhook, payload: WebhookPayload(deliveries).json,
                                           uniqueKey: "\(Kind.webhook):\(first.id)", maxAttempts: maxAttempts))
    }

    /// How many of a job's deliveries share a transaction: a burst's whole batch in one would hold the
    /// ledger's write lock, and the next burst's intake with it, for tens of milliseconds.
    public static let webhooksPerTransaction = 25

    /// For each delivery, polls its task now (a poll job of its own) and marks the delivery processed. A
    /// delivery for a task the ledger does not know stays recorded and unmatched
    /// (`unmatchedWebhookDeliveries`). A retry repeats every delivery, which each step allows.
    func webhookStep(_ context: JobContext) async throws {
        let deliveries = try context.job.payload(as: WebhookPayload.self).deliveries
        for start in stride(from: 0, to: max(deliveries.count, 1), by: Self.webhooksPerTransaction) {
            let chunk = deliveries[start..<min(start + Self.webhooksPerTransaction, deliveries.count)]
            try await ledger.transaction { tx in
                try await processWebhooks(chunk, in: tx)
                if chunk.endIndex == deliveries.endIndex { try await context.complete(in: tx) }
            }
        }
    }

    private func processWebhooks(_ deliveries: ArraySlice<WebhookPayload.Delivery>, in tx: LedgerTransaction) async throws {
        // The tasks looked up together: most of a burst's deliveries may name tasks the ledger does not know.
        var known: [String: [String: ProviderTaskRecord]] = [:]
        for provider in Set(deliveries.map(\.provider)) {
            let named = deliveries.filter { $0.provider == provider }.compactMap(\.providerTaskID)
            for task in try await tx.tasks(provider: provider, providerTaskIDs: named) {
                if let providerTaskID = task.providerTaskID { known[provider, default: [:]][providerTaskID] = task }
            }
        }
        for delivery in deliveries {
            guard let providerTaskID = delivery.providerTaskID, let task = known[delivery.provider]?[providerTaskID],
                  let submit = try await tx.job(uniqueKey: "\(Kind.submit):\(task.id)")
            else { continue }
            let request = try submit.payload(as: StepPayload.self).request
            if task.clipID == nil, task.outputURL == nil {
                _ = try await tx.enqueue(try step(Kind.poll, task: task.id, request: request,
                                              key: "\(Kind.poll):\(task.id):webhook:\(delivery.delivery)"))
            }
            try await tx.markWebhookProcessed(delivery.delivery)
        }
    }
}
