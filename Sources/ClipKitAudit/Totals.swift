import ClipKitCore
import Foundation

/// Adds up money per currency and per provider/model, never across currencies.
struct Totals {
    private struct Key: Hashable {
        var provider: String
        var model: String?
        var currency: String?
    }

    private var billed: [String: Decimal] = [:]
    private var disputed: [String: Decimal] = [:]
    private var groups: [Key: GroupTotal] = [:]
    private var groupOrder: [Key] = []

    mutating func add(task: BilledTask, duplicates: [Money?], findings: [Finding], delivered: Decimal?) {
        let currency = task.charge?.currency
        // Findings about the one charge may overlap (short AND low tier): cap them at the charge.
        var taskDisputed: Decimal = 0
        if let charge = task.charge {
            let sum = findings.filter { $0.code != .duplicateBilling && $0.overBilled?.currency == charge.currency }
                .reduce(Decimal(0)) { $0 + ($1.overBilled?.amount ?? 0) }
            taskDisputed = Swift.min(sum, charge.amount)
            billed[charge.currency, default: 0] += charge.amount
            disputed[charge.currency, default: 0] += taskDisputed
        }
        var duplicateSum: Decimal = 0
        for case let money? in duplicates {
            billed[money.currency, default: 0] += money.amount
            disputed[money.currency, default: 0] += money.amount
            if money.currency == currency { duplicateSum += money.amount }
        }
        let seconds = (task.billedSeconds ?? 0) * Decimal(1 + duplicates.count)
        for key in [
            Key(provider: task.provider, model: nil, currency: currency),
            Key(provider: task.provider, model: task.model ?? "unknown model", currency: currency),
        ] {
            if groups[key] == nil {
                groupOrder.append(key)
                groups[key] = GroupTotal(
                    provider: key.provider, model: key.model, currency: currency, billedTasks: 0, billedSeconds: 0,
                    deliveredSeconds: 0, billed: currency.map(Money.zero), disputed: currency.map(Money.zero),
                    findings: 0)
            }
            groups[key]!.billedTasks += 1
            groups[key]!.billedSeconds += seconds
            groups[key]!.deliveredSeconds += delivered ?? 0
            groups[key]!.findings += findings.count
            if let charge = task.charge {
                groups[key]!.billed = groups[key]!.billed.map { $0 + charge + Money(duplicateSum, charge.currency) }
                groups[key]!.disputed = groups[key]!.disputed.map {
                    $0 + Money(taskDisputed + duplicateSum, charge.currency)
                }
            }
        }
    }

    func currencies() -> [CurrencyTotal] {
        billed.keys.sorted().map { currency in
            let b = Money(billed[currency]!, currency)
            let d = Money(disputed[currency] ?? 0, currency)
            return CurrencyTotal(currency: currency, billed: b, verified: b - d, disputed: d)
        }
    }

    func groups(byModel: Bool) -> [GroupTotal] {
        groupOrder.filter { ($0.model != nil) == byModel }.map { groups[$0]! }
            .sorted {
                ($0.provider, $0.model ?? "", $0.currency ?? "") < ($1.provider, $1.model ?? "", $1.currency ?? "")
            }
    }
}
