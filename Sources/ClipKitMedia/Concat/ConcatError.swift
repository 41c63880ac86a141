import ClipKitCore

/// Why clips could not be joined; names the input at fault when one is.
public struct ConcatError: ClipKitError {
    /// What went wrong, for a program to switch on.
    public enum Code: String, Sendable, Hashable, Codable, CaseIterable {
        /// No clips were given.
        case noInputs
        /// The options cannot be met (a negative cross-fade, a zero size).
        case invalidOptions
        /// An input cannot be read as a video (missing, not media, truncated, …).
        case inputUnreadable
        /// Stream copy was required but the clips differ (`ReencodePolicy.never`).
        case copyImpossible
        /// The first clip has no frame rate and none was given.
        case noFrameRate
        /// An input opened but no frame of it decodes.
        case undecodable
    }

    public let code: Code
    public let description: String
    /// The input that failed, if one did.
    public let path: String?

    init(_ code: Code, _ description: String, path: String? = nil) {
        self.code = code
        self.description = description
        self.path = path
    }
}
