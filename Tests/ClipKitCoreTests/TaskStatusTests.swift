import ClipKitCore
import Testing

@Suite("task status: one vocabulary, one mapping from each provider's words")
struct TaskStatusTests {
    typealias Vocabulary = TaskStatus.Vocabulary

    /// Every status word each provider documents, with what it means.
    static let documented: [(Vocabulary, String, TaskStatus)] = [
        (.dashScope, "PENDING", .pending), (.dashScope, "RUNNING", .running), (.dashScope, "SUCCEEDED", .succeeded),
        (.dashScope, "FAILED", .failed), (.dashScope, "CANCELED", .canceled), (.dashScope, "UNKNOWN", .unknown),
        (.waveSpeed, "created", .pending), (.waveSpeed, "processing", .running), (.waveSpeed, "completed", .succeeded),
        (.waveSpeed, "failed", .failed), (.waveSpeed, "cancelled", .canceled), (.waveSpeed, "timeout", .failed),
        (.modelVerse, "Pending", .pending), (.modelVerse, "Running", .running), (.modelVerse, "Success", .succeeded),
        (.modelVerse, "Failure", .failed), (.modelVerse, "Expired", .expired),
    ]

    @Test("every documented word of every provider", arguments: documented.indices)
    func documentedWords(_ index: Int) {
        let (vocabulary, word, status) = Self.documented[index]
        #expect(TaskStatus(word, vocabulary: vocabulary) == status, "\(vocabulary) \(word)")
        // Case does not matter, and the word means the same when the provider is not known.
        #expect(TaskStatus(word.lowercased(), vocabulary: vocabulary) == status)
        #expect(TaskStatus(word.uppercased(), vocabulary: vocabulary) == status)
        #expect(TaskStatus(anyProviderWord: word) == status, "any provider: \(word)")
    }

    @Test("providers are found by their record names; routers and others read every vocabulary")
    func byProviderName() {
        #expect(Vocabulary(provider: "dashscope") == .dashScope && Vocabulary(provider: "WaveSpeed") == .waveSpeed)
        #expect(Vocabulary(provider: "modelverse") == .modelVerse && Vocabulary(provider: "acme-router") == nil)
        #expect(TaskStatus("Success", provider: "modelverse") == .succeeded)
        #expect(TaskStatus("completed", provider: "acme-router") == .succeeded)
        #expect(TaskStatus("completed", provider: nil) == .succeeded)
    }

    @Test("a word outside a provider's vocabulary is unknown there, and bills' common words are read")
    func otherWords() {
        #expect(TaskStatus("completed", vocabulary: .dashScope) == .unknown)
        #expect(TaskStatus("SUCCEEDED", vocabulary: .modelVerse) == .succeeded)
        #expect(TaskStatus("Expired", vocabulary: .dashScope) == .unknown)
        #expect(TaskStatus("something new", vocabulary: .waveSpeed) == .unknown)
        #expect(TaskStatus(anyProviderWord: "done") == .succeeded && TaskStatus(anyProviderWord: "error") == .failed)
        #expect(TaskStatus(anyProviderWord: "queueing") == .pending && TaskStatus(anyProviderWord: "in_progress") == .running)
        #expect(TaskStatus(anyProviderWord: "") == .unknown)
    }

    @Test("terminal and failure states")
    func states() {
        #expect(TaskStatus.allCases.filter { !$0.isTerminal } == [.pending, .running])
        #expect(TaskStatus.allCases.filter(\.isFailure) == [.failed, .canceled])
    }
}
