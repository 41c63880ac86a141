import ClipKitCore

/// Why a chain stopped. The work directory keeps everything done so far: running the same chain
/// again resumes it (after a larger budget, a price, or a provider that works again).
public struct ChainError: ClipKitError {
    /// What stopped the chain, for a program to switch on.
    public enum Code: String, Sendable, Hashable, Codable, CaseIterable {
        /// The next segment's estimate would take the committed spend past the budget; nothing was submitted.
        case budgetExceeded
        /// A budget was set but the price book has no price for a segment's model and tier.
        case unpriced
        /// The budget and a segment's estimate are in different currencies.
        case currencyMismatch
        /// A segment failed or was rejected on every attempt allowed.
        case attemptsExhausted
        /// The work directory holds the state of a different chain (another storyboard or provider).
        case workDirectoryInUse
        /// The saved state (`chain.json`) cannot be read.
        case stateUnreadable
        /// A segment has no previous last frame to continue from (a damaged work directory).
        case missingLastFrame
    }

    public let code: Code
    public let description: String

    init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }
}
