import ClipKitAudit
import ClipKitCore
import ClipKitMedia
import ClipKitProviders
import Foundation

/// How a chain runs: which provider, where it keeps its state, what it may spend.
public struct ChainOptions: Sendable {
    /// The protocol spoken (the sandbox speaks all three).
    public var provider: ProviderKind
    public var credentials: ProviderCredentials
    /// A sandbox's or router's base URL instead of the provider's own.
    public var baseURL: String?
    public var transport: HTTPTransport
    /// Where the plan, task ids, clips, frames and reports live; running again with the same directory resumes.
    public var workDirectory: String
    public var output: String
    /// Refuse to submit a segment that would take the spend past this.
    public var budget: Money?
    /// Generations tried per segment before giving up (failed or rejected ones count).
    public var maxAttempts: Int
    public var priceBook: PriceBook
    /// When a delivered clip is accepted; the chain's audit judges with the same rule.
    public var asBilled: AsBilledRule
    public var runner: RunnerOptions
    /// How the clips are joined: seam frames dropped, colour anchored to the first clip.
    public var concat: ConcatOptions
    public var overwrite: Bool
    /// Probes clips and encodes frames for the provider clients.
    public var media: any MediaToolkit

    public init(provider: ProviderKind, credentials: ProviderCredentials, baseURL: String? = nil, transport: HTTPTransport,
                workDirectory: String, output: String, budget: Money? = nil, maxAttempts: Int = 3,
                priceBook: PriceBook = .builtIn, asBilled: AsBilledRule = AsBilledRule(),
                runner: RunnerOptions = RunnerOptions(),
                concat: ConcatOptions = ConcatOptions(seam: .drop, colorMatch: .first, measuresQuality: true),
                overwrite: Bool = false, media: any MediaToolkit = FFmpegToolkit()) {
        self.provider = provider
        self.credentials = credentials
        self.baseURL = baseURL
        self.transport = transport
        self.workDirectory = workDirectory
        self.output = output
        self.budget = budget
        self.maxAttempts = maxAttempts
        self.priceBook = priceBook
        self.asBilled = asBilled
        self.runner = runner
        self.concat = concat
        self.overwrite = overwrite
        self.media = media
    }
}

/// What happens during a chain, in order, for a progress display or a pipeline's log.
public enum ChainEvent: Sendable {
    case segmentStarted(index: Int, count: Int, mode: GenerationMode, model: String, estimate: Money?)
    /// The segment's clip was already accepted in an earlier run.
    case reused(index: Int, clip: String)
    /// A task submitted in an earlier run is polled again instead of submitted.
    case resuming(index: Int, taskID: String)
    case task(index: Int, RunEvent)
    case attemptFailed(index: Int, reason: String, willRetry: Bool)
    case accepted(index: Int, clip: String)
    case joining(clips: Int)
    case concat(ConcatProgress)
}
