import ClipKitCore
import Foundation

/// A job's number in the ledger, assigned when it is enqueued; later jobs have larger numbers.
public struct JobID: RawRepresentable, Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let rawValue: Int64
    public init(rawValue: Int64) { self.rawValue = rawValue }
    public init(_ rawValue: Int64) { self.rawValue = rawValue }
    public static func < (a: JobID, b: JobID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { String(rawValue) }

    public init(from decoder: Decoder) throws { rawValue = try decoder.singleValueContainer().decode(Int64.self) }
    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// Where a job is in its life:
///
/// ```
///            enqueue                claim (lease)               complete
///   ──────────▶ queued ─────────────────────────▶ running ─────────────────▶ succeeded
///                ▲  │ cancel                       │ │ │
///                │  ▼                              │ │ │ fail, attempts left: run_at = now + backoff
///                │ cancelled                       │ │ │ lease expired (rescuer), attempts left
///                └─────────────────────────────────┘ │ │ release (hand back on shutdown, not counted)
///                                                    │ └──────────▶ dead: fail with no attempts left, or
///                                                    │               a permanent failure; last error kept
///                                                    └──────────────▶ (retryDead puts a dead job back)
/// ```
public enum JobState: String, Sendable, Hashable, Codable, CaseIterable {
    /// Waiting to be claimed, from `runAt` on (new, retrying after a failure, rescued or handed back).
    case queued
    /// Claimed by a worker, whose lease runs until `leaseExpiresAt` unless renewed by heartbeats.
    case running
    case succeeded
    /// Failed on its last allowed attempt, or failed permanently; `lastError` says why.
    case dead
    /// Cancelled before it ran.
    case cancelled

    /// No transition leaves a final state (but `retryDead` for a dead job).
    public var isFinal: Bool { self == .succeeded || self == .dead || self == .cancelled }
}

/// One job as the ledger holds it.
public struct Job: Sendable, Hashable, Identifiable {
    public var id: JobID
    /// What to do, naming the handler: `download`, `probe`, `poll`, …
    public var kind: String
    /// The handler's input, as JSON.
    public var payload: JSONValue
    /// Unique among all jobs kept: enqueueing the same key again returns this job.
    public var uniqueKey: String?
    public var state: JobState
    /// Claims so far, the current one included (a claim handed back on shutdown is not counted).
    public var attempts: Int
    public var maxAttempts: Int
    /// Not claimed before this time.
    public var runAt: Date
    public var createdAt: Date
    public var updatedAt: Date
    /// When the latest claim began.
    public var startedAt: Date?
    public var finishedAt: Date?
    /// The worker holding (or, once final, the one that last held) the job.
    public var workerID: String?
    public var leaseExpiresAt: Date?
    /// The latest failure, kept also after a later success.
    public var lastError: String?

    /// The payload decoded as `T`.
    /// - Throws: `DecodingError` when the payload does not have `T`'s shape.
    public func payload<T: Decodable>(as type: T.Type) throws -> T {
        try payload.decoded(as: type)
    }
}

/// A job to enqueue.
public struct NewJob: Sendable, Hashable {
    public var kind: String
    public var payload: JSONValue
    /// Makes the enqueue idempotent: while a job with this key is kept (in any state), enqueueing it again
    /// returns that job instead of a second one. Use what identifies the work: `poll:wavespeed:TASKID`.
    public var uniqueKey: String?
    /// Not before this time (nil: now).
    public var runAt: Date?
    /// Claims allowed before the job is dead (at least 1).
    public var maxAttempts: Int

    public init(
        kind: String, payload: JSONValue = .object([:]), uniqueKey: String? = nil, runAt: Date? = nil,
        maxAttempts: Int = 5
    ) {
        self.kind = kind
        self.payload = payload
        self.uniqueKey = uniqueKey
        self.runAt = runAt
        self.maxAttempts = maxAttempts
    }

    /// A job whose payload is `payload` encoded as JSON.
    /// - Throws: `EncodingError` when `payload` cannot be encoded.
    public init<P: Encodable>(
        kind: String, encoding payload: P, uniqueKey: String? = nil, runAt: Date? = nil, maxAttempts: Int = 5
    ) throws {
        self.init(kind: kind, payload: try JSONValue(encoding: payload), uniqueKey: uniqueKey, runAt: runAt, maxAttempts: maxAttempts)
    }
}

/// What enqueueing returned: the job, and whether this call made it (false: its unique key was taken).
public struct Enqueued: Sendable, Hashable {
    public var job: Job
    public var created: Bool
}

/// A worker's hold on one running job. Every report on the job (heartbeat, complete, fail, release)
/// carries it, and is refused once another claim has replaced it.
public struct JobLease: Sendable, Hashable {
    public var jobID: JobID
    /// Random per claim: a job claimed again after a rescue gets a different token.
    public var token: String
    public var workerID: String
    /// This claim's attempt number, from 1.
    public var attempt: Int
    public var maxAttempts: Int
    public var expiresAt: Date
}

/// A job handed to a worker, and the worker's lease on it.
public struct ClaimedJob: Sendable, Hashable {
    public var job: Job
    public var lease: JobLease
}

/// What a heartbeat found: the leases renewed (with their new expiry) and the jobs no longer held,
/// whose work the worker must abandon without reporting a result.
public struct HeartbeatResult: Sendable, Hashable {
    public var renewed: [JobLease]
    public var lost: [JobID]
}

/// Exponential backoff with jitter: after attempt n, wait `base × 2^(n-1)` (at most `maximum`), spread by
/// ±`jitter` of itself so that jobs failing together do not all come back at the same instant.
public struct Backoff: Sendable, Hashable {
    public var base: Duration
    public var maximum: Duration
    /// A fraction below 1/3, so that each attempt's range lies wholly above the previous one's.
    public var jitter: Double

    public init(base: Duration = .seconds(1), maximum: Duration = .seconds(3600), jitter: Double = 0.2) {
        self.base = base
        self.maximum = maximum
        self.jitter = min(max(jitter, 0), 0.33)
    }

    /// 1 s, 2 s, 4 s, … up to an hour, ±20%.
    public static let standard = Backoff()

    /// The wait after failed attempt `attempt` (from 1); `unit` in [0, 1) picks the point in the jitter
    /// range (random by default).
    public func delay(afterAttempt attempt: Int, unit: Double = Double.random(in: 0..<1)) -> Duration {
        let exponent = min(max(attempt - 1, 0), 40)
        let plain = min(base.seconds * pow(2, Double(exponent)), maximum.seconds)
        return .microseconds(Int64((plain * (1 + jitter * (2 * unit - 1)) * 1_000_000).rounded()))
    }
}

/// What to do with a failed attempt.
public enum RetryPlan: Sendable, Hashable {
    /// Retry after the backoff for this attempt, while attempts are left.
    case backoff(Backoff)
    /// Retry after this wait (a provider's Retry-After), while attempts are left.
    case after(Duration)
    /// A permanent failure: dead now, whatever attempts are left.
    case never
}

/// Where a failed job went.
public enum FailOutcome: Sendable, Hashable {
    case retrying(at: Date)
    case dead
}

/// What one pass of the lease rescuer did.
public struct RescueReport: Sendable, Hashable {
    /// Jobs whose lease expired, queued again to run now.
    public var requeued: [JobID]
    /// Jobs whose lease expired on their last allowed attempt.
    public var dead: [JobID]
    /// True when another node's rescuer was running (PostgreSQL): this pass did nothing.
    public var skipped: Bool
}

/// How many jobs of one kind are in one state (for metrics).
public struct JobCount: Sendable, Hashable {
    public var kind: String
    public var state: JobState
    public var count: Int
}

/// A worker name that is unique per process: `host:pid:random`.
public func makeWorkerID(_ name: String = "worker") -> String {
    let random = UUID().uuidString.prefix(8).lowercased()
    return "\(name)@\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier):\(random)"
}
