import Foundation

/// A ledger operation that failed: what kind of failure (`code`, stable for callers and HTTP
/// mapping) and what failed on what (`message`, naming the database, the table or the record).
///
/// Callers match codes with `catch LedgerError.leaseLost` or `catch LedgerError.budgetExceeded`.
public struct LedgerError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Code: String, Sendable, Hashable, CaseIterable {
        /// The `--database` text is not a SQLite path or a `postgres://` URL.
        case badLocation
        /// The database could not be opened or reached (file, network, authentication).
        case unavailable
        /// A migration failed, or the database's schema is not one this build knows.
        case schemaMismatch
        /// The record asked for does not exist.
        case notFound
        /// The job's lease expired and was rescued, or another worker holds it now: the caller must stop
        /// working on it and must not report a result (the transaction reporting it was rolled back).
        case leaseLost
        /// A reservation would take a budget past its limit.
        case budgetExceeded
        /// An amount is in another currency than the budget it is charged to.
        case currencyMismatch
        /// An idempotency key is being reused with a different request.
        case idempotencyKeyReused
        /// A record conflicts with one already stored (a duplicate name, an active token name).
        case conflict
        /// A stored value cannot be read back as what it should be.
        case corruptRecord
        /// The database refused a statement for another reason.
        case database
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    public static let badLocation = LedgerError(.badLocation, "")
    public static let unavailable = LedgerError(.unavailable, "")
    public static let schemaMismatch = LedgerError(.schemaMismatch, "")
    public static let notFound = LedgerError(.notFound, "")
    public static let leaseLost = LedgerError(.leaseLost, "")
    public static let budgetExceeded = LedgerError(.budgetExceeded, "")
    public static let currencyMismatch = LedgerError(.currencyMismatch, "")
    public static let idempotencyKeyReused = LedgerError(.idempotencyKeyReused, "")
    public static let conflict = LedgerError(.conflict, "")

    /// Errors are equal when their codes are: the message is for people, the code for callers.
    public static func == (a: LedgerError, b: LedgerError) -> Bool { a.code == b.code }

    /// Matches any ledger error with the same code, whatever its message.
    public static func ~= (pattern: LedgerError, error: any Error) -> Bool {
        (error as? LedgerError)?.code == pattern.code
    }
}
