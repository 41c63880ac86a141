import ClipKitAudit
import ClipKitCore
import ClipKitLedger
import Foundation

/// A chain as the API shows it (`GET /v1/chains/{id}`): its segments with every task tried for each, the
/// budget, the money billed, and once joined the video, its contact sheet of seams and the join's report.
/// URLs are the API's own, relative to the server.
public struct ChainSummary: Sendable, Hashable, Codable {
    public var id: String
    public var provider: String
    /// `running` (segments being generated), `joining`, `joined` or `failed`.
    public var state: String
    public var segments: [Segment]
    /// The chain's own budget, when it was given one.
    public var budget: BudgetState?
    /// What its tasks were billed, by currency (rejected attempts included: they were paid for).
    public var billed: [Money]
    /// The joined video (`/v1/chains/ID/video.mp4`) and its seams (`/v1/chains/ID/seams.png`), once joined.
    public var videoURL: String?
    public var contactSheetURL: String?
    /// The join's report (seams, repeated frames dropped, colour), or `{"error"}` when the chain failed.
    public var report: JSONValue?
    public var error: String?
    public var createdAt: Date
    public var updatedAt: Date

    public struct Segment: Sendable, Hashable, Codable {
        public var position: Int
        public var prompt: String?
        /// `pending`, `generating` or `accepted`.
        public var state: String
        /// The accepted clip, and its exact last frame (the next segment's first frame).
        public var clipID: String?
        public var lastFrameURL: String?
        /// Every attempt, oldest first.
        public var tasks: [Attempt]
    }

    public struct Attempt: Sendable, Hashable, Codable {
        public var id: String
        public var state: String
        public var billed: Money?
        public var clipID: String?
        public var error: String?
    }

    public struct BudgetState: Sendable, Hashable, Codable {
        public var name: String
        public var limit: Money
        public var reserved: Money
        public var spent: Money
        public var left: Money
    }

    init(_ chain: ChainRecord, tasks: [ProviderTaskRecord], budget: Budget?) {
        id = chain.id
        provider = chain.provider
        state = chain.state
        let prompts = chain.storyboard["segments"]?.arrayValue?.map { $0["prompt"]?.stringValue } ?? []
        segments = chain.segments.map { segment in
            Segment(
                position: segment.position, prompt: prompts.indices.contains(segment.position) ? prompts[segment.position] : nil,
                state: segment.state, clipID: segment.clipID,
                lastFrameURL: segment.state == "accepted" ? segment.clipID.map { "/v1/clips/\($0)/frames/last.png" } : nil,
                tasks: tasks.filter { $0.segment == segment.position }.reversed().map {
                    Attempt(id: $0.id, state: $0.state, billed: $0.billed, clipID: $0.clipID, error: $0.errorMessage ?? $0.errorCode)
                })
        }
        self.budget = budget.map {
            BudgetState(name: $0.name, limit: $0.limit, reserved: $0.reserved, spent: $0.spent, left: $0.left)
        }
        billed = Money.totals(tasks.compactMap(\.billed))
        let joined = chain.state == "joined" && chain.outputPath != nil
        videoURL = joined ? "/v1/chains/\(chain.id)/video.mp4" : nil
        contactSheetURL = joined ? "/v1/chains/\(chain.id)/seams.png" : nil
        report = chain.report
        error = chain.report?["error"]?.stringValue
        createdAt = chain.createdAt
        updatedAt = chain.updatedAt
    }
}
