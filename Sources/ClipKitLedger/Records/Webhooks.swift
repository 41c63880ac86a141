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

/// A delivery whose signature checked out, to be recorded.
public struct ArrivedWebhook: Sendable, Hashable {
    public var provider: String
    public var webhookID: String
    public var providerTaskID: String?
    public var body: String

    public init(provider: String, webhookID: String, providerTaskID: String?, body: String) {
        self.provider = provider
        self.webhookID = webhookID
        self.providerTaskID = providerTaskID
        self.body = body
    }
}

/// What recording an arrival found.
public struct RecordedWebhook: Sendable, Hashable {
    public var delivery: WebhookDelivery
    /// False when its provider and webhook id were recorded before (a redelivery: acknowledge it, do not
    /// act on it again), also earlier in the same batch.
    public var isNew: Bool
}

extension LedgerTransaction {
    static let webhookColumns = "id, provider, webhook_id, provider_task_id, task_id, body, received_at, processed_at"

    /// Records a delivery, or returns the one already recorded with the same provider and webhook id
    /// (`isNew` false: a redelivery, to acknowledge and not act on again). The ledger task is looked up by
    /// the provider's task id.
    public func recordWebhook(provider: String, webhookID: String, providerTaskID: String?, body: String) async throws
        -> (delivery: WebhookDelivery, isNew: Bool)
    {
        let recorded = try await recordWebhooks([
            ArrivedWebhook(provider: provider, webhookID: webhookID, providerTaskID: providerTaskID, body: body)
        ])[0]
        return (recorded.delivery, recorded.isNew)
    }

    /// Records many deliveries in a few statements whatever their number (a burst of webhooks is bound
    /// by statements, not rows): one read of the tasks they name, one insert of them all, then one read of
    /// those whose webhook id was taken. Answers in the order of `arrivals`; of arrivals sharing a provider
    /// and webhook id, the first is recorded and the rest are its redeliveries.
    public func recordWebhooks(_ arrivals: [ArrivedWebhook]) async throws -> [RecordedWebhook] {
        struct Key: Hashable { var provider, webhookID: String }
        var firsts: [ArrivedWebhook] = [], seen: Set<Key> = []
        for arrival in arrivals where seen.insert(Key(provider: arrival.provider, webhookID: arrival.webhookID)).inserted {
            firsts.append(arrival)
        }
        guard !firsts.isEmpty else { return [] }
        let now = self.now
        // The ledger's tasks by provider and provider task id: a plain read, so the insert below is plain
        // values (a lookup inside each of its rows cost SQLite more to compile than to run).
        var tasks: [String: [String: String]] = [:]
        for provider in Set(firsts.map(\.provider)) {
            let named = Set(firsts.filter { $0.provider == provider }.compactMap(\.providerTaskID)).sorted()
            guard !named.isEmpty else { continue }
            for row in try await query(
                """
                SELECT provider_task_id, id FROM provider_tasks
                WHERE provider = $1 AND provider_task_id IN (\(SQLDialect.placeholders(from: 2, count: named.count)))
                """, [.text(provider)] + named.map(SQLValue.text))
            {
                tasks[provider, default: [:]][try row.string("provider_task_id")] = try row.string("id")
            }
        }
        var rows: [String] = [], binds: [SQLValue] = [.date(now)], made: [WebhookDelivery] = []
        for arrival in firsts {
            let n = binds.count
            let delivery = WebhookDelivery(
                id: RecordID.make("webhook", at: now), provider: arrival.provider, webhookID: arrival.webhookID,
                providerTaskID: arrival.providerTaskID, taskID: arrival.providerTaskID.flatMap { tasks[arrival.provider]?[$0] },
                body: arrival.body, receivedAt: now, processedAt: nil)
            rows.append("($\(n + 1), $\(n + 2), $\(n + 3), $\(n + 4), $\(n + 5), $\(n + 6), $1, NULL)")
            binds += [.text(delivery.id), .text(delivery.provider), .text(delivery.webhookID), SQLValue(delivery.providerTaskID),
                      SQLValue(delivery.taskID), .text(delivery.body)]
            made.append(delivery)
        }
        // Only the ids of the rows inserted come back; the rest is what was inserted.
        var insertedIDs: Set<String> = []
        for row in try await query(
            """
            INSERT INTO webhook_deliveries (\(Self.webhookColumns)) VALUES \(rows.joined(separator: ", "))
            ON CONFLICT (provider, webhook_id) DO NOTHING RETURNING id
            """, binds)
        {
            insertedIDs.insert(try row.string("id"))
        }
        var recorded: [Key: RecordedWebhook] = [:]
        for delivery in made where insertedIDs.contains(delivery.id) {
            recorded[Key(provider: delivery.provider, webhookID: delivery.webhookID)] = RecordedWebhook(delivery: delivery, isNew: true)
        }
        let taken = firsts.filter { recorded[Key(provider: $0.provider, webhookID: $0.webhookID)] == nil }
        for provider in Set(taken.map(\.provider)) {
            let ids = taken.filter { $0.provider == provider }.map(\.webhookID)
            for row in try await query(
                """
                SELECT \(Self.webhookColumns) FROM webhook_deliveries
                WHERE provider = $1 AND webhook_id IN (\(SQLDialect.placeholders(from: 2, count: ids.count)))
                """, [.text(provider)] + ids.map(SQLValue.text))
            {
                let delivery = try Self.webhook(row)
                recorded[Key(provider: provider, webhookID: delivery.webhookID)] = RecordedWebhook(delivery: delivery, isNew: false)
            }
        }
        var answered: Set<Key> = []
        return try arrivals.map { arrival in
            let key = Key(provider: arrival.provider, webhookID: arrival.webhookID)
            guard var answer = recorded[key] else {
                throw LedgerError(.database, "webhook \(arrival.webhookID) of \(arrival.provider) was neither recorded nor found")
            }
            if !answered.insert(key).inserted { answer.isNew = false }
            return answer
        }
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
