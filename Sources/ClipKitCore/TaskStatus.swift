/// Where a generation task stands, in one vocabulary for every provider. Whoever records a status
/// keeps the provider's own word beside it (`TaskRecord.statusHistory`, `TaskSnapshot.status`).
public enum TaskStatus: String, Sendable, Hashable, Codable, CaseIterable {
    /// Accepted and waiting: DashScope `PENDING`, WaveSpeed `created`, ModelVerse `Pending`.
    case pending
    /// Generating: `RUNNING`, `processing`, `Running`.
    case running
    /// Finished with an output: `SUCCEEDED`, `completed`, `Success`.
    case succeeded
    /// Ended without an output: `FAILED`, `failed`/`timeout`, `Failure`.
    case failed
    /// Cancelled before it ran: `CANCELED`, `cancelled`.
    case canceled
    /// Past the provider's retention: ModelVerse `Expired`.
    case expired
    /// The provider does not know the task (DashScope `UNKNOWN`: expired after 24 h or never created),
    /// or a word none of the vocabularies below holds.
    case unknown

    /// The provider will not change it any more (for `unknown`: nothing more can be learnt by asking).
    public var isTerminal: Bool { self != .pending && self != .running }

    /// A task that ended without an output.
    public var isFailure: Bool { self == .failed || self == .canceled }

    /// The status a provider's word means. Words are matched without regard to case.
    public init(_ word: String, vocabulary: Vocabulary) {
        self = vocabulary.words[word.lowercased()] ?? .unknown
    }

    /// The status a word means from the provider named (`dashscope`, …, as in task records), or from any
    /// vocabulary when the provider is a router, unknown or not given.
    public init(_ word: String, provider: String?) {
        if let vocabulary = provider.flatMap(Vocabulary.init(provider:)) {
            self.init(word, vocabulary: vocabulary)
        } else {
            self.init(anyProviderWord: word)
        }
    }

    /// The status a word means when the provider is not known (a CSV bill's status column): each
    /// provider's vocabulary in turn, then the common words bills use (`done`, `error`, `queued`, …).
    public init(anyProviderWord word: String) {
        let key = word.lowercased()
        self = Vocabulary.allCases.lazy.compactMap { $0.words[key] }.first ?? Self.commonWords[key] ?? .unknown
    }

    /// Each provider's status words: the one mapping from them to `TaskStatus`.
    public enum Vocabulary: String, Sendable, Hashable, CaseIterable {
        /// DashScope / Model Studio and the routers speaking its protocol: `output.task_status`.
        case dashScope
        /// WaveSpeed v3: `data.status`.
        case waveSpeed
        /// ModelVerse: `output.task_status`.
        case modelVerse

        /// The vocabulary of a provider named as in task records (`dashscope`, `wavespeed`, `modelverse`);
        /// nil for a router or a provider ClipKit does not know.
        public init?(provider: String) {
            switch provider.lowercased() {
            case "dashscope": self = .dashScope
            case "wavespeed": self = .waveSpeed
            case "modelverse": self = .modelVerse
            default: return nil
            }
        }

        /// Lower-cased word → status.
        var words: [String: TaskStatus] {
            switch self {
            case .dashScope:
                // SUSPENDED is documented for paused queues; CANCELLED is accepted as spelled elsewhere.
                ["pending": .pending, "suspended": .pending, "running": .running, "succeeded": .succeeded,
                 "failed": .failed, "canceled": .canceled, "cancelled": .canceled, "unknown": .unknown]
            case .waveSpeed:
                ["created": .pending, "pending": .pending, "queued": .pending, "processing": .running,
                 "completed": .succeeded, "failed": .failed, "timeout": .failed, "cancelled": .canceled,
                 "canceled": .canceled]
            case .modelVerse:
                // A cancelled task's word is undocumented; both spellings are taken.
                ["pending": .pending, "queued": .pending, "running": .running, "success": .succeeded,
                 "succeeded": .succeeded, "failure": .failed, "failed": .failed, "canceled": .canceled,
                 "cancelled": .canceled, "expired": .expired]
            }
        }
    }

    /// Words seen in bills and exports beyond the three vocabularies.
    private static let commonWords: [String: TaskStatus] = [
        "complete": .succeeded, "succeed": .succeeded, "done": .succeeded, "fail": .failed, "error": .failed,
        "timed_out": .failed, "queueing": .pending, "submitted": .pending, "in_progress": .running,
    ]
}
