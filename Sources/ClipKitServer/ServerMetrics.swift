import ClipKitLedger
import Foundation
import Prometheus
import Synchronization

/// What `GET /metrics` shows, in Prometheus's text format: counters and histograms this server keeps
/// (webhooks, the jobs its own worker ran, bytes of clips it took in), and gauges read from the ledger at
/// each scrape (jobs by kind and state, money billed and disputed by currency, clips stored), so that
/// every node of a deployment shows the same ledger-wide figures. A registry of its own, not the
/// process-wide `MetricsSystem`, so several servers (in tests) never share counters.
final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    /// The webhook counters made once: the registry's lookup cost each of a burst's deliveries a lock and hashes.
    private let webhookCounters: [WebhookResult: Counter]
    /// Job kinds seen in the queue: a state a kind no longer has is shown as 0, not its last count.
    private let kinds = Mutex<Set<String>>([])
    private static let jobBuckets: [Duration] = [.milliseconds(10), .milliseconds(100), .milliseconds(500), .seconds(1), .seconds(5),
                                                 .seconds(30), .seconds(120), .seconds(600)]

    /// What became of a webhook delivery: `accepted` (new), `duplicate` (a redelivery) or `rejected` (bad
    /// signature or time).
    enum WebhookResult: String, CaseIterable { case accepted, duplicate, rejected }

    init() {
        let registry = self.registry
        webhookCounters = Dictionary(uniqueKeysWithValues: WebhookResult.allCases.map { result in
            (result, registry.makeCounter(name: "clipkit_webhooks_total", labels: [("result", result.rawValue)],
                                          help: "WaveSpeed webhook deliveries by result"))
        })
    }

    func webhook(_ result: WebhookResult) { webhookCounters[result]?.increment() }

    /// Bytes of a clip stored, by how it came (`upload`, `url`).
    func clipBytes(_ count: Int64, source: String) {
        registry.makeCounter(name: "clipkit_clip_bytes_received_total", labels: [("source", source)],
                             help: "Bytes of clips this server received, uploaded or downloaded").increment(by: count)
    }

    /// One job this server's worker ran, how long it took and how it ended (`succeeded`, `failed`).
    func job(_ kind: String, outcome: String, took: Duration) {
        registry.makeDurationHistogram(name: "clipkit_job_duration_seconds", labels: [("kind", kind), ("outcome", outcome)],
                                       buckets: Self.jobBuckets, help: "Time job handlers ran on this server's worker")
            .record(took)
    }

    /// A handler timed into `job(_:outcome:took:)`.
    func timed(_ kind: String, _ handler: @escaping JobWorker.Handler) -> JobWorker.Handler {
        { context in
            let clock = ContinuousClock(), start = clock.now
            do {
                try await handler(context)
                self.job(kind, outcome: "succeeded", took: clock.now - start)
            } catch {
                self.job(kind, outcome: "failed", took: clock.now - start)
                throw error
            }
        }
    }

    /// The text of a scrape: the ledger's figures now, then everything this server counted.
    func scrape(_ store: any LedgerStore) async throws -> String {
        let counts = try await store.jobCounts()
        let totals = try await store.read { try await $0.totals() }
        let kinds = self.kinds.withLock { seen in seen.formUnion(counts.map(\.kind)); return seen }
        for kind in kinds.sorted() {
            for state in JobState.allCases {
                let count = counts.first { $0.kind == kind && $0.state == state }?.count ?? 0
                registry.makeGauge(name: "clipkit_jobs", labels: [("kind", kind), ("state", state.rawValue)],
                                   help: "Jobs in the ledger's queue by kind and state").set(Double(count))
            }
        }
        for (currency, amount) in totals.billed {
            registry.makeGauge(name: "clipkit_billed_amount", labels: [("currency", currency)],
                               help: "Money billed for verified tasks in the ledger").set(NSDecimalNumber(decimal: amount).doubleValue)
        }
        for (currency, amount) in totals.disputed {
            registry.makeGauge(name: "clipkit_disputed_amount", labels: [("currency", currency)],
                               help: "Money the ledger's audit findings dispute as over-billed").set(NSDecimalNumber(decimal: amount).doubleValue)
        }
        registry.makeGauge(name: "clipkit_clips", help: "Clips stored in the ledger").set(Double(totals.clips))
        registry.makeGauge(name: "clipkit_clips_bytes", help: "Bytes of the clips stored in the ledger").set(Double(totals.clipBytes))
        return registry.emitToString()
    }
}
