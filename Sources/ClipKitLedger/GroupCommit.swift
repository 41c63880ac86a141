/// Many small writes in few transactions ("group commit"): a write that arrives while a transaction is
/// in flight waits for the next one, which carries every write that arrived meanwhile. Under a burst (200
/// webhook deliveries at once) that is a handful of commits instead of 200, and each caller is still
/// answered only once its write is committed. The body gets the whole batch, so it can write it in a few
/// statements rather than a few per write. A body that throws fails the batch: every caller of that
/// batch gets the error, and nothing of the batch is kept.
public actor GroupCommit<Write: Sendable, Written: Sendable> {
    /// Writes a batch in its transaction and returns one answer per write, in order.
    public typealias Body = @Sendable ([Write], LedgerTransaction) async throws -> [Written]

    private let store: any LedgerStore
    private let maxBatch: Int
    private let body: Body
    private var waiting: [(write: Write, answer: CheckedContinuation<Written, any Error>)] = []
    private var flushing = false

    /// - Parameters:
    ///   - maxBatch: the most writes in one transaction (a bound on how long one holds the writer).
    ///   - body: a batch's writes, in its transaction.
    public init(store: any LedgerStore, maxBatch: Int = 256, body: @escaping Body) {
        self.store = store
        self.maxBatch = maxBatch
        self.body = body
    }

    /// Performs `write` in the next transaction and returns what `body` returned once that transaction
    /// has committed.
    /// - Throws: what `body` threw for any write of the batch, or the transaction's `LedgerError`.
    public func perform(_ write: Write) async throws -> Written {
        try await withCheckedThrowingContinuation { answer in
            waiting.append((write, answer))
            if !flushing {
                flushing = true
                Task { await self.flush() }
            }
        }
    }

    private func flush() async {
        while !waiting.isEmpty {
            let batch = Array(waiting.prefix(maxBatch))
            waiting.removeFirst(batch.count)
            let writes = batch.map(\.write), body = self.body
            do {
                let written = try await store.transaction { tx in
                    let written = try await body(writes, tx)
                    guard written.count == writes.count else {
                        throw LedgerError(.database, "a group commit's body answered \(written.count) of \(writes.count) writes")
                    }
                    return written
                }
                for (entry, result) in zip(batch, written) { entry.answer.resume(returning: result) }
            } catch {
                for entry in batch { entry.answer.resume(throwing: error) }
            }
        }
        flushing = false
    }
}
