import Synchronization

/// Many small writes in few transactions ("group commit"): a write that arrives while a transaction is
/// in flight waits for the next one, which carries every write that arrived meanwhile. Under a burst (200
/// webhook deliveries at once) that is a handful of commits instead of 200, and each caller is still
/// answered only once its write is committed. The body gets the whole batch, so it can write it in a few
/// statements rather than a few per write. A body that throws fails the batch: every caller of that
/// batch gets the error, and nothing of the batch is kept.
///
/// The batches run on the store's `writeExecutor` (SQLite: the writer connection's thread), so each
/// statement's answer resumes the batch there instead of queueing behind the very requests it is about
/// to answer: under a burst a batch of one delivery lasted as long as the burst's arrival.
public final class GroupCommit<Write: Sendable, Written: Sendable>: Sendable {
    /// Writes a batch in its transaction and returns one answer per write, in order.
    public typealias Body = @Sendable ([Write], LedgerTransaction) async throws -> [Written]
    private typealias Waiting = (write: Write, answer: CheckedContinuation<Written, any Error>)

    private let store: any LedgerStore
    private let maxBatch: Int
    private let body: Body
    /// The writes not yet in a batch, and whether a flush is running (it takes them all before it ends).
    private let queue = Mutex<(waiting: [Waiting], flushing: Bool)>(([], false))

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
            let startsFlush = queue.withLock { queue in
                queue.waiting.append((write, answer))
                defer { queue.flushing = true }
                return !queue.flushing
            }
            if startsFlush { Task(executorPreference: store.writeExecutor) { await self.flush() } }
        }
    }

    private func flush() async {
        while let batch = nextBatch() {
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
    }

    /// The next batch, or nil (and the flush over) when nothing waits.
    private func nextBatch() -> [Waiting]? {
        queue.withLock { queue in
            guard !queue.waiting.isEmpty else {
                queue.flushing = false
                return nil
            }
            let batch = Array(queue.waiting.prefix(maxBatch))
            queue.waiting.removeFirst(batch.count)
            return batch
        }
    }
}
