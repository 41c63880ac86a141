import ClipKitAudit
import Foundation

/// A spending limit shared by every node: the account's (`account`) or a chain's (`chain:ID`).
///
/// Money is held before it is spent: a submission first reserves its estimated price, in the same
/// transaction that records the submission, and the reservation is settled with the billed amount (or
/// released when the task was not billed). `reserved + spent` never passes `limit` through
/// reservations, however many workers race: each reservation locks the budget's row (PostgreSQL) or holds
/// the write lock (SQLite) while it checks. A bill above its estimate is still recorded as spent.
public struct Budget: Sendable, Hashable {
    public var name: String
    public var limit: Money
    /// Held by submissions whose bill is not known yet.
    public var reserved: Money
    public var spent: Money
    public var createdAt: Date
    public var updatedAt: Date

    /// What new reservations may still take (negative when bills overran their estimates).
    public var left: Money { limit - reserved - spent }
}

/// Money held on one budget for one submission.
public struct BudgetReservation: Sendable, Hashable, Identifiable {
    public enum State: String, Sendable, Hashable, Codable {
        case held, settled, released
    }

    public var id: String
    public var budget: String
    /// What the money is for: the submission's request key.
    public var reference: String
    public var amount: Money
    /// The billed amount, once settled.
    public var spent: Money?
    public var state: State
    public var createdAt: Date
    public var settledAt: Date?
}

extension LedgerTransaction {
    static let budgetColumns = "name, currency, limit_amount, reserved_amount, spent_amount, created_at, updated_at"
    static let reservationColumns = "id, budget, reference, currency, amount, spent, state, created_at, settled_at"

    /// Makes a budget, or changes the limit of an existing one (its reservations and spending stay).
    /// - Throws: `LedgerError.currencyMismatch` when the budget exists in another currency.
    @discardableResult
    public func setBudget(_ name: String, limit: Money) async throws -> Budget {
        let now = self.now
        if let existing = try await lockedBudget(name) {
            guard existing.limit.currency == limit.currency else {
                throw LedgerError(
                    .currencyMismatch, "budget \(name) is in \(existing.limit.currency), not \(limit.currency)")
            }
            try await execute(
                "UPDATE budgets SET limit_amount = $2, updated_at = $3 WHERE name = $1",
                [.text(name), .decimal(limit.amount), .date(now)])
        } else {
            try await execute(
                """
                INSERT INTO budgets (\(Self.budgetColumns)) VALUES ($1, $2, $3, $4, $4, $5, $5)
                """, [.text(name), .text(limit.currency), .decimal(limit.amount), .decimal(0), .date(now)])
        }
        guard let budget = try await budget(name) else { throw LedgerError(.database, "budget \(name) was not stored") }
        return budget
    }

    public func budget(_ name: String) async throws -> Budget? {
        try await queryOne("SELECT \(Self.budgetColumns) FROM budgets WHERE name = $1", [.text(name)]).map(Self.budget)
    }

    public func budgets() async throws -> [Budget] {
        try await query("SELECT \(Self.budgetColumns) FROM budgets ORDER BY name").map(Self.budget)
    }

    /// Holds `amount` on each of `budgets` for `reference`, all or none. A reference that already holds
    /// money on a budget keeps that reservation (a retried submission does not reserve twice).
    ///
    /// Call it in the `transaction` that records the submission, before the provider is called.
    /// - Throws: `LedgerError.budgetExceeded` naming the budget and what is left;
    ///   `LedgerError.currencyMismatch`; `LedgerError.notFound` for an unknown budget.
    @discardableResult
    public func reserve(_ amount: Money, on budgets: [String], reference: String) async throws -> [BudgetReservation] {
        let now = self.now
        var reservations: [BudgetReservation] = []
        // Always lock budgets in name order, so two reservations on the same pair cannot deadlock.
        for name in Set(budgets).sorted() {
            guard var budget = try await lockedBudget(name) else {
                throw LedgerError(.notFound, "no budget \(name) in the ledger")
            }
            guard budget.limit.currency == amount.currency else {
                throw LedgerError(.currencyMismatch, "budget \(name) is in \(budget.limit.currency), not \(amount.currency)")
            }
            if let held = try await reservation(budget: name, reference: reference) {
                reservations.append(held)
                continue
            }
            guard amount.amount <= budget.left.amount else {
                throw LedgerError(
                    .budgetExceeded,
                    "budget \(name): reserving \(amount) for \(reference) would pass its limit of \(budget.limit) "
                        + "(reserved \(budget.reserved.amountText), spent \(budget.spent.amountText), "
                        + "left \(budget.left.amountText))")
            }
            budget.reserved += amount
            try await execute(
                "UPDATE budgets SET reserved_amount = $2, updated_at = $3 WHERE name = $1",
                [.text(name), .decimal(budget.reserved.amount), .date(now)])
            let reservation = BudgetReservation(
                id: RecordID.make("reservation", at: now), budget: name, reference: reference, amount: amount, spent: nil,
                state: .held, createdAt: now, settledAt: nil)
            try await execute(
                """
                INSERT INTO budget_reservations (\(Self.reservationColumns)) VALUES ($1, $2, $3, $4, $5, NULL, 'held', $6, NULL)
                """,
                [.text(reservation.id), .text(name), .text(reference), .text(amount.currency), .decimal(amount.amount),
                 .date(now)])
            reservations.append(reservation)
        }
        return reservations
    }

    /// Settles every held reservation of `reference` with the amount billed: its hold is lifted and
    /// `spent` is added to each budget. Already settled or released reservations are left alone.
    /// - Throws: `LedgerError.currencyMismatch` when `spent` is in another currency than a budget.
    @discardableResult
    public func settle(reference: String, spent: Money) async throws -> [BudgetReservation] {
        try await finish(reference: reference, spent: spent)
    }

    /// Lifts every held reservation of `reference` without spending (the task failed and was not billed).
    @discardableResult
    public func releaseReservations(reference: String) async throws -> [BudgetReservation] {
        try await finish(reference: reference, spent: nil)
    }

    /// Reservations on one budget, oldest first.
    public func reservations(budget: String) async throws -> [BudgetReservation] {
        try await query(
            "SELECT \(Self.reservationColumns) FROM budget_reservations WHERE budget = $1 ORDER BY created_at, id",
            [.text(budget)]
        ).map(Self.reservation)
    }

    private func finish(reference: String, spent: Money?) async throws -> [BudgetReservation] {
        let now = self.now
        let names = try await query(
            "SELECT budget FROM budget_reservations WHERE reference = $1 AND state = 'held' ORDER BY budget",
            [.text(reference)]
        ).map { try $0.string("budget") }
        var finished: [BudgetReservation] = []
        for name in names {
            guard var budget = try await lockedBudget(name),
                var held = try await reservation(budget: name, reference: reference), held.state == .held
            else { continue }
            if let spent, spent.currency != budget.limit.currency {
                throw LedgerError(.currencyMismatch, "budget \(name) is in \(budget.limit.currency), not \(spent.currency)")
            }
            budget.reserved = budget.reserved - held.amount
            if let spent { budget.spent += spent }
            try await execute(
                "UPDATE budgets SET reserved_amount = $2, spent_amount = $3, updated_at = $4 WHERE name = $1",
                [.text(name), .decimal(budget.reserved.amount), .decimal(budget.spent.amount), .date(now)])
            held.state = spent == nil ? .released : .settled
            held.spent = spent
            held.settledAt = now
            try await execute(
                "UPDATE budget_reservations SET state = $2, spent = $3, settled_at = $4 WHERE id = $1",
                [.text(held.id), .text(held.state.rawValue), SQLValue(spent?.amount), .date(now)])
            finished.append(held)
        }
        return finished
    }

    /// The budget, with its row locked until the transaction ends (PostgreSQL; SQLite's write lock is held already).
    private func lockedBudget(_ name: String) async throws -> Budget? {
        try await queryOne("SELECT \(Self.budgetColumns) FROM budgets WHERE name = $1\(dialect.forUpdate)", [.text(name)])
            .map(Self.budget)
    }

    private func reservation(budget: String, reference: String) async throws -> BudgetReservation? {
        try await queryOne(
            "SELECT \(Self.reservationColumns) FROM budget_reservations WHERE budget = $1 AND reference = $2",
            [.text(budget), .text(reference)]
        ).map(Self.reservation)
    }

    static func budget(_ row: SQLRow) throws -> Budget {
        let currency = try row.string("currency")
        return Budget(
            name: try row.string("name"), limit: Money(try row.decimal("limit_amount"), currency),
            reserved: Money(try row.decimal("reserved_amount"), currency), spent: Money(try row.decimal("spent_amount"), currency),
            createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"))
    }

    static func reservation(_ row: SQLRow) throws -> BudgetReservation {
        let stateText = try row.string("state")
        guard let state = BudgetReservation.State(rawValue: stateText) else {
            throw LedgerError(.corruptRecord, "reservation \(try row.string("id")) has the unknown state \(stateText)")
        }
        let currency = try row.string("currency")
        return BudgetReservation(
            id: try row.string("id"), budget: try row.string("budget"), reference: try row.string("reference"),
            amount: Money(try row.decimal("amount"), currency), spent: try row.optionalDecimal("spent").map { Money($0, currency) },
            state: state, createdAt: try row.date("created_at"), settledAt: try row.optionalDate("settled_at"))
    }
}

extension LedgerStore {
    /// `LedgerTransaction.reserve(_:on:reference:)` in its own transaction.
    @discardableResult
    public func reserve(_ amount: Money, on budgets: [String], reference: String) async throws -> [BudgetReservation] {
        try await transaction { try await $0.reserve(amount, on: budgets, reference: reference) }
    }

    /// `LedgerTransaction.settle(reference:spent:)` in its own transaction.
    @discardableResult
    public func settle(reference: String, spent: Money) async throws -> [BudgetReservation] {
        try await transaction { try await $0.settle(reference: reference, spent: spent) }
    }

    public func budgets() async throws -> [Budget] {
        try await read { try await $0.budgets() }
    }
}
