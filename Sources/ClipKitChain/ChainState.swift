import ClipKitAudit
import ClipKitCore
import ClipKitMedia
import Foundation

/// Everything a chain has done, saved in the work directory (`chain.json`) after every step that
/// costs money or time, so a killed run picks up where it stopped without paying twice.
public struct ChainState: Sendable, Codable, Hashable {
    /// One paid generation of a segment: its task, its record and clip, and what became of it.
    public struct Attempt: Sendable, Codable, Hashable {
        /// What became of an attempt.
        public enum Outcome: String, Sendable, Codable, Hashable {
            /// Submitted and not finished yet: resume by polling, never by submitting again.
            case pending
            case accepted
            /// The provider reported failure (no clip).
            case failed
            /// A clip arrived but did not pass verification (it was still billed).
            case rejected
        }

        public var taskID: String
        public var clip: String
        public var record: String
        public var outcome: Outcome
        public var reason: String?
        /// What the price book says this task costs.
        public var estimate: Money?
    }

    /// A segment's progress: its attempts, the accepted clip, its last frame and colour measurement.
    public struct Segment: Sendable, Codable, Hashable {
        public var attempts: [Attempt] = []
        /// The accepted clip.
        public var clip: String?
        /// Its exact last frame, the next segment's first frame.
        public var lastFrame: String?
        /// Which matrix brings the clip's first frame closest to the image it was generated from.
        public var colorMatch: MatrixMatch?
        /// The matrix its last frame (and its pictures in the join) were read with.
        public var matrix: ColorMatrix?
    }

    public var version = 1
    /// The storyboard as it was when the chain started: a changed storyboard is a new chain.
    public var storyboard: Storyboard
    public var provider: String
    public var segments: [Segment]
    /// The joined output, once written.
    public var output: String?

    init(storyboard: Storyboard, provider: String) {
        self.storyboard = storyboard
        self.provider = provider
        segments = Array(repeating: Segment(), count: storyboard.segments.count)
    }

    /// Money committed so far: every task submitted, except those that failed at the provider (which
    /// DashScope, WaveSpeed and ModelVerse do not bill).
    public var committed: [String: Money] {
        var totals: [String: Money] = [:]
        for attempt in segments.flatMap(\.attempts) where attempt.outcome != .failed {
            guard let estimate = attempt.estimate else { continue }
            totals[estimate.currency] = (totals[estimate.currency] ?? .zero(estimate.currency)) + estimate
        }
        return totals
    }

    static func load(_ path: String) throws -> ChainState? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do {
            return try JSONDecoder().decode(ChainState.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw ChainError(.stateUnreadable, "cannot read the chain state \(path): \(error)")
        }
    }

    func save(_ path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try OutputFile(path, overwrite: true).write(try encoder.encode(self))
    }
}
