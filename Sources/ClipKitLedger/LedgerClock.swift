import Foundation
import Synchronization

/// Where the ledger reads the time for leases, run-at times and record stamps.
///
/// Times come from the process, not the database, so that tests can move time instead of waiting. On
/// several machines, keep their clocks synchronised (NTP): a lease is trusted to within the skew.
public struct LedgerClock: Sendable {
    private let read: @Sendable () -> Date

    public init(_ read: @escaping @Sendable () -> Date) { self.read = read }

    /// The current time, rounded to the microsecond the stores keep.
    public func now() -> Date { read().roundedToLedgerResolution }

    /// The system's wall clock.
    public static let system = LedgerClock { Date() }

    /// A clock that only moves when told to (tests, simulations).
    public static func manual(_ clock: ManualClock) -> LedgerClock { LedgerClock { clock.now } }
}

/// A time that moves only by `advance(by:)` or `set(_:)`.
public final class ManualClock: Sendable {
    private let current: Mutex<Date>

    public init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        current = Mutex(start.roundedToLedgerResolution)
    }

    public var now: Date { current.withLock { $0 } }

    public func advance(by duration: Duration) {
        current.withLock { $0 = $0.adding(duration) }
    }

    public func set(_ date: Date) {
        current.withLock { $0 = date.roundedToLedgerResolution }
    }
}

extension Date {
    /// This date moved by `duration`, to the microsecond.
    func adding(_ duration: Duration) -> Date {
        Date(ledgerMicroseconds: ledgerMicroseconds + duration.microseconds)
    }
}

extension Duration {
    /// Whole microseconds (rounded toward zero).
    var microseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }

    var seconds: Double { Double(microseconds) / 1_000_000 }
}
