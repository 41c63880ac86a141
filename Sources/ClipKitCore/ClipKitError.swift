/// An error the ClipKit library throws: a stable `code` a program can switch on, and a message
/// (`description`) that names the file or task and the step that failed.
///
/// Messages say what happened, never which command-line flag would change it: a front end (the
/// `clipkit` CLI, a server) maps codes to its own exit statuses or HTTP statuses and adds its own hints.
public protocol ClipKitError: Error, Sendable, CustomStringConvertible {
    associatedtype Code: RawRepresentable, Hashable, Sendable where Code.RawValue == String
    /// What kind of failure this is; stable across releases, unlike the message.
    var code: Code { get }
}

extension ClipKitError {
    /// The code's name (`exists`, `budgetExceeded`, …), e.g. for `{"error": {"code", "message"}}`.
    public var codeName: String { code.rawValue }
}
