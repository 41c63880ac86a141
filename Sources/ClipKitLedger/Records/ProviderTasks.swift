import ClipKitAudit
import ClipKitCore
import Foundation

/// One submission to a provider, from before it is sent until it is billed.
///
/// The row is written with its `requestKey` *before* the provider is called: a rerun of the same request
/// finds it and recovers the task (by listing the provider's recent tasks when no id was recorded)
/// instead of submitting twice. The request is stored with secrets removed (`TaskRecord.sanitized`).
public struct ProviderTaskRecord: Sendable, Hashable, Identifiable {
    public var id: String
    /// What makes this submission unique: the same key never makes a second row.
    public var requestKey: String?
    /// Lower-case provider: `dashscope`, `wavespeed`, `modelverse`, `sandbox`.
    public var provider: String
    public var model: String
    /// The provider's task id, once the submission was answered.
    public var providerTaskID: String?
    /// The API base, without credentials.
    public var endpoint: String?
    /// The request body as sent, secrets removed.
    public var request: JSONValue?
    /// The provider's latest status word (`PENDING`, `processing`, `Success`).
    public var status: String?
    /// The provider-neutral state: `submitting` before the provider answered, then `queued`, `running`,
    /// `succeeded`, `failed`, `canceled`, `unknown` (as ClipKit's task state names them).
    public var state: String
    /// Every status seen, oldest first.
    public var statusHistory: [TaskStatusChange]
    /// The provider's `usage` object as returned: the basis of the bill.
    public var usage: JSONValue?
    /// The amount billed, once known.
    public var billed: Money?
    public var outputURL: String?
    /// The clip downloaded from it.
    public var clipID: String?
    public var contentFlagged: Bool?
    public var errorCode: String?
    public var errorMessage: String?
    /// The chain and segment it generates, if any.
    public var chainID: String?
    public var segment: Int?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: String? = nil, requestKey: String? = nil, provider: String, model: String, providerTaskID: String? = nil,
        endpoint: String? = nil, request: JSONValue? = nil, status: String? = nil, state: String = "submitting",
        usage: JSONValue? = nil, billed: Money? = nil, outputURL: String? = nil, clipID: String? = nil,
        contentFlagged: Bool? = nil, errorCode: String? = nil, errorMessage: String? = nil, chainID: String? = nil,
        segment: Int? = nil
    ) {
        self.id = id ?? RecordID.make("task")
        self.requestKey = requestKey
        self.provider = provider
        self.model = model
        self.providerTaskID = providerTaskID
        self.endpoint = endpoint
        self.request = request
        self.status = status
        self.state = state
        self.statusHistory = []
        self.usage = usage
        self.billed = billed
        self.outputURL = outputURL
        self.clipID = clipID
        self.contentFlagged = contentFlagged
        self.errorCode = errorCode
        self.errorMessage = errorMessage
        self.chainID = chainID
        self.segment = segment
        self.createdAt = .unstamped
        self.updatedAt = .unstamped
    }

    /// The task as the audit reads task records (`NAME.task.json`), with `outputFile` the given clip path.
    public func taskRecord(outputFile: String? = nil) -> TaskRecord {
        TaskRecord(
            provider: provider, model: model, taskID: providerTaskID ?? id, endpoint: endpoint, request: request,
            statusHistory: statusHistory.map { TaskRecord.StatusChange(status: $0.status, at: $0.at) },
            outputURL: outputURL, outputFile: outputFile, usage: usage, contentFlagged: contentFlagged,
            error: errorCode == nil && errorMessage == nil ? nil : TaskRecord.TaskError(code: errorCode, message: errorMessage))
    }
}

/// One status a task was seen in: the provider's word, the neutral state, and when.
public struct TaskStatusChange: Sendable, Hashable, Codable {
    public var status: String
    public var state: String
    public var at: Date

    public init(status: String, state: String, at: Date) {
        self.status = status
        self.state = state
        self.at = at.roundedToLedgerResolution
    }
}

extension LedgerTransaction {
    static let taskColumns = """
        id, request_key, provider, model, provider_task_id, endpoint, request, status, state, usage, billed_amount, \
        billed_currency, output_url, clip_id, content_flagged, error_code, error_message, chain_id, segment, \
        created_at, updated_at
        """

    /// Stores a task before its submission, or returns the one already stored for its `requestKey`
    /// (`created` false): the caller then resumes that task instead of submitting again.
    public func insertTask(_ task: ProviderTaskRecord) async throws -> (task: ProviderTaskRecord, created: Bool) {
        var stored = task
        stored.request = task.request.map(TaskRecord.sanitized)
        stored.createdAt = now
        stored.updatedAt = stored.createdAt
        let row = try await queryOne(
            """
            INSERT INTO provider_tasks (\(Self.taskColumns))
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $20)
            ON CONFLICT DO NOTHING RETURNING id
            """, try Self.taskBinds(stored) + [.date(stored.createdAt)])
        if row != nil {
            for change in task.statusHistory { try await appendStatus(change, to: stored.id) }
            stored.statusHistory = task.statusHistory
            return (stored, true)
        }
        if let key = task.requestKey, let existing = try await self.task(requestKey: key) { return (existing, false) }
        throw LedgerError(
            .conflict, "task \(task.id) of \(task.provider) (\(task.providerTaskID ?? "not submitted")) is already in the ledger")
    }

    /// Rewrites the task's changing fields (provider id, status and state, usage, bill, output, clip, errors)
    /// and stamps it updated. The status history is changed only by `recordStatus`.
    /// - Throws: `LedgerError.notFound` when there is no such task.
    public func updateTask(_ task: ProviderTaskRecord) async throws {
        let rows = try await query(
            """
            UPDATE provider_tasks SET provider_task_id = $2, endpoint = $3, request = $4, status = $5, state = $6,
                usage = $7, billed_amount = $8, billed_currency = $9, output_url = $10, clip_id = $11,
                content_flagged = $12, error_code = $13, error_message = $14, updated_at = $15
            WHERE id = $1 RETURNING id
            """,
            [.text(task.id), SQLValue(task.providerTaskID), SQLValue(task.endpoint),
             SQLValue(json: task.request.map(TaskRecord.sanitized)), SQLValue(task.status), .text(task.state),
             SQLValue(json: task.usage), SQLValue(task.billed?.amount), SQLValue(task.billed?.currency),
             SQLValue(task.outputURL), SQLValue(task.clipID), SQLValue(task.contentFlagged), SQLValue(task.errorCode),
             SQLValue(task.errorMessage), .date(now)])
        guard !rows.isEmpty else { throw LedgerError(.notFound, "no task \(task.id) in the ledger") }
    }

    /// Records a status seen for the task: appended to its history when it differs from the last one,
    /// and made its current status and state.
    /// - Throws: `LedgerError.notFound` when there is no such task.
    public func recordStatus(_ change: TaskStatusChange, taskID: String) async throws {
        let rows = try await query(
            "UPDATE provider_tasks SET status = $2, state = $3, updated_at = $4 WHERE id = $1 RETURNING id",
            [.text(taskID), .text(change.status), .text(change.state), .date(now)])
        guard !rows.isEmpty else { throw LedgerError(.notFound, "no task \(taskID) in the ledger") }
        let last = try await queryOne(
            "SELECT status, state FROM task_status_changes WHERE task_id = $1 ORDER BY seq DESC LIMIT 1", [.text(taskID)])
        if let last, try last.string("status") == change.status, try last.string("state") == change.state { return }
        try await appendStatus(change, to: taskID)
    }

    private func appendStatus(_ change: TaskStatusChange, to taskID: String) async throws {
        try await execute(
            """
            INSERT INTO task_status_changes (task_id, seq, status, state, changed_at)
            SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3, $4 FROM task_status_changes WHERE task_id = $1
            """, [.text(taskID), .text(change.status), .text(change.state), .date(change.at)])
    }

    public func task(_ id: String) async throws -> ProviderTaskRecord? {
        try await withHistory(query("SELECT \(Self.taskColumns) FROM provider_tasks WHERE id = $1", [.text(id)])).first
    }

    public func task(requestKey: String) async throws -> ProviderTaskRecord? {
        try await withHistory(
            query("SELECT \(Self.taskColumns) FROM provider_tasks WHERE request_key = $1", [.text(requestKey)])
        ).first
    }

    public func task(provider: String, providerTaskID: String) async throws -> ProviderTaskRecord? {
        try await withHistory(
            query(
                "SELECT \(Self.taskColumns) FROM provider_tasks WHERE provider = $1 AND provider_task_id = $2",
                [.text(provider), .text(providerTaskID)])
        ).first
    }

    /// The tasks of `providerTaskIDs` that the ledger knows, in no particular order (one statement for
    /// many, as for a burst of webhook deliveries).
    public func tasks(provider: String, providerTaskIDs: [String]) async throws -> [ProviderTaskRecord] {
        let named = Array(Set(providerTaskIDs)).sorted()
        guard !named.isEmpty else { return [] }
        return try await withHistory(
            query(
                """
                SELECT \(Self.taskColumns) FROM provider_tasks
                WHERE provider = $1 AND provider_task_id IN (\(SQLDialect.placeholders(from: 2, count: named.count)))
                """, [.text(provider)] + named.map(SQLValue.text)))
    }

    /// Tasks newest first, optionally in one neutral state, created since a time, of one chain.
    public func tasks(state: String? = nil, since: Date? = nil, chain: String? = nil, limit: Int = 100) async throws
        -> [ProviderTaskRecord]
    {
        var filter = SQLFilter()
        filter.add("state", "=", state.map(SQLValue.text))
        filter.add("chain_id", "=", chain.map(SQLValue.text))
        filter.add("created_at", ">=", since.map(SQLValue.date))
        let limit = filter.bind(.int(Int64(limit)))
        return try await withHistory(
            query(
                """
                SELECT \(Self.taskColumns) FROM provider_tasks \(filter.whereClause)
                ORDER BY created_at DESC, id DESC LIMIT \(limit)
                """, filter.binds))
    }

    private func withHistory(_ rows: [SQLRow]) async throws -> [ProviderTaskRecord] {
        var tasks = try rows.map(Self.task)
        guard !tasks.isEmpty else { return [] }
        let ids = tasks.map { SQLValue.text($0.id) }
        let changes = try await query(
            """
            SELECT task_id, status, state, changed_at FROM task_status_changes
            WHERE task_id IN (\(SQLDialect.placeholders(from: 1, count: ids.count))) ORDER BY task_id, seq
            """, ids)
        var history: [String: [TaskStatusChange]] = [:]
        for row in changes {
            history[try row.string("task_id"), default: []].append(
                TaskStatusChange(status: try row.string("status"), state: try row.string("state"), at: try row.date("changed_at")))
        }
        for index in tasks.indices { tasks[index].statusHistory = history[tasks[index].id] ?? [] }
        return tasks
    }

    private static func taskBinds(_ task: ProviderTaskRecord) throws -> [SQLValue] {
        [.text(task.id), SQLValue(task.requestKey), .text(task.provider), .text(task.model), SQLValue(task.providerTaskID),
         SQLValue(task.endpoint), SQLValue(json: task.request), SQLValue(task.status), .text(task.state),
         SQLValue(json: task.usage), SQLValue(task.billed?.amount), SQLValue(task.billed?.currency),
         SQLValue(task.outputURL), SQLValue(task.clipID), SQLValue(task.contentFlagged), SQLValue(task.errorCode),
         SQLValue(task.errorMessage), SQLValue(task.chainID), SQLValue(task.segment)]
    }

    static func task(_ row: SQLRow) throws -> ProviderTaskRecord {
        var task = ProviderTaskRecord(
            id: try row.string("id"), requestKey: try row.optionalString("request_key"), provider: try row.string("provider"),
            model: try row.string("model"), providerTaskID: try row.optionalString("provider_task_id"),
            endpoint: try row.optionalString("endpoint"), request: try row.optionalJSON("request"),
            status: try row.optionalString("status"), state: try row.string("state"), usage: try row.optionalJSON("usage"),
            billed: try row.optionalMoney("billed"), outputURL: try row.optionalString("output_url"),
            clipID: try row.optionalString("clip_id"), contentFlagged: try row.optionalBool("content_flagged"),
            errorCode: try row.optionalString("error_code"), errorMessage: try row.optionalString("error_message"),
            chainID: try row.optionalString("chain_id"), segment: try row.optionalInt("segment"))
        task.createdAt = try row.date("created_at")
        task.updatedAt = try row.date("updated_at")
        return task
    }
}
