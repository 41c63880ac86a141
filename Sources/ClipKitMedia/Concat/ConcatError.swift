import ClipKitCore

public struct ConcatError: Error, CustomStringConvertible, Sendable {
    public let description: String
    /// The input that failed, if one did.
    public let path: String?

    init(_ description: String, path: String? = nil) {
        self.description = description
        self.path = path
    }
}
