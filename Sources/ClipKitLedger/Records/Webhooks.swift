import Foundation

/// A webhook delivery as received (after its signature was checked), kept once per provider webhook id.
public struct WebhookDelivery: Sendable, Hashable, Identifiable {
    public var id: String
    public var provider: String
    /// The provider's delivery id (`webhook-id`): a redelivery carries the same one.
    public var webhookID: String
    /// The provider's task id the body names, if any.
    public var providerTaskID: String?
    /// The ledger's task for it, when the ledger knows the task (nil: recorded, not dropped).
    public var taskID: String?
    /// The raw body. The signature header is not kept.
    public var body: String
    public var receivedAt: Date
    /// When a job finished acting on it.
    public var processedAt: Date?
}

extension LedgerTransaction {
    static let webhookColumns = "id, provider, webhook_id, provider_task_id, task_id, body, received_at, processed_at"

    /// Records a delivery, or returns the one already recorded with the same provider and webhook id
    /// (`isNew` false: a redelivery, to acknowledge and not act on again). The ledger task is looked up by
    /// the provider's task id.
    public func recordWebhook(provider: String, webhookID: String, providerTaskID: String?, body: String) async throws
        -> (delivery: WebhookDelivery, isNew: Bool)
    {
        let now = self.now
        // One statement: the task is looked up inside the insert (a webhook burst is bound by statements).
        let inserted = try await queryOne(
            """
            INSERT INTO webhook_deliveries (\(Self.webhookColumns))
            VALUES ($1, $2, $3, $4, (SELECT id FROM provider_tasks WHERE provider = $2 AND provider_task_id = $4), $5, $6, NULL)
            ON CONFLICT (provider, webhook_id) DO NOTHING RETURNING \(Self.webhookColumns)
            """,
            [.text(RecordID.make("webhook", at: now)), .text(provider), .text(webhookID), SQLValue(providerTaskID),
             .text(body), .date(now)])
        if let inserted { return (try Self.webhook(inserted), true) }
        guard
            let existing = try await queryOne(
                "SELECT \(Self.webhookColumns) FROM webhook_deliveries WHERE provider = $1 AND webhook_id = $2",
                [.text(provider), .text(webhookID)])
        else { throw LedgerError(.database, "webhook \(webhookID) of \(provider) was neither recorded nor found") }
        return (try Self.webhook(existing), false)
    }

    /// Marks a delivery acted on.
    public func markWebhookProcessed(_ id: String) async throws {
        try await execute("UPDATE webhook_deliveries SET processed_at = $2 WHERE id = $1", [.text(id), .date(now)])
    }

    /// Deliveries for one provider task, oldest first.
    public func webhookDeliveries(provider: String, providerTaskID: String) async throws -> [WebhookDelivery] {
        try await query(
            """
            SELECT \(Self.webhookColumns) FROM webhook_deliveries WHERE provider = $1 AND provider_task_id = $2
            ORDER BY received_at, id
            """, [.text(provider), .text(providerTaskID)]
        ).map(Self.webhook)
    }

    /// Deliveries for tasks the ledger did not know when they arrived, newest first.
    public func unmatchedWebhookDeliveries(limit: Int = 100) async throws -> [WebhookDelivery] {
        try await query(
            "SELECT \(Self.webhookColumns) FROM webhook_deliveries WHERE task_id IS NULL ORDER BY received_at DESC LIMIT $1",
            [.int(Int64(limit))]
        ).map(Self.webhook)
    }

    static func webhook(_ row: SQLRow) throws -> WebhookDelivery {
        WebhookDelivery(
            id: try row.string("id"), provider: try row.string("provider"), webhookID: try row.string("webhook_id"),
            providerTaskID: try row.optionalString("provider_task_id"), taskID: try row.optionalString("task_id"),
            body: try row.string("body"), receivedAt: try row.date("received_at"),
            processedAt: try row.optionalDate("processed_at"))
    }
}

extension LedgerTransaction {
    /// The latest deliveries of every provider, newest first (the dashboard's list).
    public func recentWebhookDeliveries(limit: Int = 50) async throws -> [WebhookDelivery] {
        try await query(
            "SELECT \(Self.webhookColumns) FROM webhook_deliveries ORDER BY received_at DESC, id DESC LIMIT $1",
            [.int(Int64(limit))]
        ).map(Self.webhook)
    }
}
