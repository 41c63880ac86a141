import Foundation
import Testing

@testable import ClipKitLedger

@Suite("group commit")
struct GroupCommitTests {
    struct Refused: Error {}

    @Test("300 writes at once are each committed once and answered after their commit; a failing write fails only its own batch",
          arguments: LedgerBackend.allCases)
    func burst(_ backend: LedgerBackend) async throws {
        try await TestLedger.with(backend) { ledger in
            // Keys repeat (300 writes, 250 keys): a repeat in the same batch or a later one finds the first.
            let intake = GroupCommit<Int, Bool>(store: ledger.store) { numbers, tx in
                if numbers.contains(299) { throw Refused() }
                return try await tx.enqueue(numbers.map {
                    NewJob(kind: "test.burst", payload: .object([:]), uniqueKey: "key-\($0 < 300 ? $0 % 250 : $0)")
                }).map(\.created)
            }
            let answers = await withTaskGroup(of: (Int, Result<Bool, any Error>).self) { group in
                for number in 0..<300 {
                    group.addTask {
                        do { return (number, .success(try await intake.perform(number))) } catch { return (number, .failure(error)) }
                    }
                }
                return await group.reduce(into: [Int: Result<Bool, any Error>]()) { $0[$1.0] = $1.1 }
            }
            let committed = answers.compactMap { number, answer in (try? answer.get()).map { _ in number } }
            let failed = Set(answers.keys).subtracting(committed)
            #expect(failed.contains(299), "the failing write's caller gets its error")
            #expect(failed.count < 300, "the other batches commit")
            // Exactly the committed writes' keys are in the ledger, each once; nothing of the failed batch is.
            let jobs = try await ledger.store.jobs(limit: 1000)
            #expect(Set(jobs.compactMap(\.uniqueKey)) == Set(committed.map { "key-\($0 % 250)" }))
            #expect(jobs.count == Set(committed.map { $0 % 250 }).count)
            // Of the writes sharing a key and committed, one made the job.
            for key in Set(committed.map { $0 % 250 }) {
                let makers = committed.filter { $0 % 250 == key && (try? answers[$0]?.get()) == true }
                #expect(makers.count == 1, "key-\(key): \(makers)")
            }
            // And the intake keeps working after a failed batch.
            #expect(try await intake.perform(1000) == true)
            #expect(try await ledger.store.jobs(limit: 1000).count == jobs.count + 1)
        }
    }
}
