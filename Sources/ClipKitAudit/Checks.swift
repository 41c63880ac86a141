import ClipKitCore
import Foundation

/// Settings of the checks.
public struct AuditOptions: Sendable, Hashable {
    /// When a clip is as billed: the same rule `clipkit verify` and chain runs apply, so the audit never
    /// calls a clip fine that a chain paid to generate again, nor the reverse.
    public var asBilled: AsBilledRule

    public init(asBilled: AsBilledRule = AsBilledRule()) {
        self.asBilled = asBilled
    }

    /// - Parameters:
    ///   - toleranceFrames: frames a clip may be shorter than billed before `durationShort` (default one).
    ///   - fallbackFrameRate: the rate the tolerance is counted at when a clip's rate is unknown.
    public init(toleranceFrames: Double, fallbackFrameRate: Double = 30) {
        self.init(asBilled: AsBilledRule(toleranceFrames: toleranceFrames, fallbackFrameRate: fallbackFrameRate))
    }
}

/// The checks: pure functions of a billed task, the probe of its clip, the price book and options.
public enum Checks {
    /// Every finding for one billed task. `media` is the probe of `task.clip` (nil if there is no clip).
    public static func run(
        _ task: BilledTask, media: MediaInfo?, priceBook: PriceBook,
        options: AuditOptions = AuditOptions()
    ) -> [Finding] {
        var findings: [Finding] = []
        if task.charge == nil { findings.append(unpriced(task)) }
        if let finding = failedButBilled(task) { return findings + [finding] }
        if let finding = contentFlaggedButBilled(task) { return findings + [finding] }
        if let finding = amountMismatch(task) { findings.append(finding) }
        if let finding = clipMissing(task, media: media) { return findings + [finding] }
        guard let media else { return findings }
        if let finding = notVideo(task, media: media) { return findings + [finding] }
        if let finding = truncated(task, media: media) { return findings + [finding] }
        findings += [
            durationShort(task, media: media, options: options),
            tierMismatch(task, media: media, priceBook: priceBook),
            frameCountInconsistent(task, media: media, options: options),
            audio(task, media: media),
        ].compactMap { $0 }
        return findings
    }

    /// The whole charge is disputed when a billed task failed or was canceled.
    public static func failedButBilled(_ task: BilledTask) -> Finding? {
        guard let status = task.status, status.isFailure, !task.contentFlagged else { return nil }
        let reason = [task.errorCode, task.errorMessage].compactMap { $0 }.joined(separator: ": ")
        return finding(
            .failedButBilled, .error, task, media: nil,
            "\(task.name) is \(task.providerStatus ?? status.rawValue)\(reason.isEmpty ? "" : " (\(reason))") yet billed \(text(task.charge))",
            task.charge)
    }

    /// The whole charge is disputed when the provider flagged or blocked the content and still billed it.
    public static func contentFlaggedButBilled(_ task: BilledTask) -> Finding? {
        guard task.contentFlagged else { return nil }
        let why = task.errorCode.map { "blocked with \($0)" } ?? "flagged as NSFW"
        return finding(
            .contentFlaggedButBilled, .error, task, media: nil,
            "\(task.name) was \(why) yet billed \(text(task.charge))", task.charge)
    }

    /// A bill's amount against the price book's amount for the same model, tier and seconds.
    public static func amountMismatch(_ task: BilledTask) -> Finding? {
        guard task.chargeFromBill, let charge = task.charge, let expected = task.expectedCharge,
            charge.currency == expected.currency, charge != expected
        else { return nil }
        let what = "\(task.tier?.rawValue ?? "?") \(seconds(task.billedSeconds))"
        if charge.amount > expected.amount {
            return finding(
                .amountMismatch, .error, task, media: nil,
                "\(task.name) billed \(charge) but \(what) costs \(expected) by the price book", charge - expected)
        }
        return finding(
            .amountMismatch, .warning, task, media: nil,
            "\(task.name) billed \(charge), less than the price book's \(expected) for \(what)", .zero(charge.currency))
    }

    /// A billed task with no clip, or a manifest path that does not exist.
    public static func clipMissing(_ task: BilledTask, media: MediaInfo?) -> Finding? {
        if task.clip == nil {
            return finding(
                .clipMissing, .error, task, media: nil,
                "\(task.name) billed \(text(task.charge)) but no clip matches it", task.charge)
        }
        guard media?.error?.code == .notFound else { return nil }
        return finding(
            .clipMissing, .error, task, media: media,
            "\(task.name): clip \(task.clip ?? "") does not exist", task.charge)
    }

    /// A file that is not a video at all: empty, an XML/HTML error page, no video stream, unreadable.
    public static func notVideo(_ task: BilledTask, media: MediaInfo) -> Finding? {
        guard let problem = media.error, problem.code != .notFound, problem.code != .truncated else {
            if media.error == nil && media.video == nil {
                return finding(
                    .notVideo, .error, task, media: media,
                    "\(task.name): \(media.path) has no video stream", task.charge)
            }
            return nil
        }
        return finding(
            .notVideo, .error, task, media: media,
            "\(task.name): \(describe(problem, of: media.path, as: "is not a video"))", task.charge)
    }

    /// A file cut short, or (deep probe) one with undecodable frames or fewer decoded frames than indexed.
    public static func truncated(_ task: BilledTask, media: MediaInfo) -> Finding? {
        var reason: String?
        if let problem = media.error, problem.code == .truncated {
            return finding(
                .truncated, .error, task, media: media,
                "\(task.name): \(describe(problem, of: media.path, as: "is truncated"))", task.charge)
        } else if let video = media.video {
            if let errors = video.decodeErrors, errors > 0 {
                reason = "\(errors) decode error\(errors == 1 ? "" : "s")"
            } else if let decoded = video.decodedFrames, let count = video.frameCount, decoded < count {
                reason = "only \(decoded) of \(count) frames decode"
            }
        }
        guard let reason else { return nil }
        return finding(
            .truncated, .error, task, media: media, "\(task.name): \(media.path) is truncated (\(reason))", task.charge)
    }

    /// The delivered video is shorter than paid for by more than the tolerance (`AsBilledRule`; a
    /// longer clip is never over-billed). The amount is the pro-rata value of the missing seconds:
    /// charge × missing ÷ paid seconds.
    public static func durationShort(_ task: BilledTask, media: MediaInfo, options: AuditOptions) -> Finding? {
        guard let paid = task.paidSeconds, paid > 0, let delivered = deliveredSeconds(media),
            case .short = options.asBilled.length(of: media, billedSeconds: paid.doubleValue)
        else { return nil }
        let missing = paid - delivered
        let amount = task.charge.map { ($0 * (missing / paid)).rounded() }
        return finding(
            .durationShort, .error, task, media: media,
            "\(task.name): \(media.path) lasts \(seconds(delivered)), \(seconds(missing)) short of the \(seconds(paid)) billed",
            amount)
    }

    /// The delivered tier against the billed tier. A lower tier is over-billed by the charge minus
    /// the price of the same seconds at the best priced tier the clip reaches (all of it if none).
    public static func tierMismatch(_ task: BilledTask, media: MediaInfo, priceBook: PriceBook) -> Finding? {
        guard let billed = task.tier, task.tierSource != .clip, let video = media.video else { return nil }
        let delivered = media.tier
        let verdict = AsBilledRule.tier(of: media, billed: billed)
        if verdict == .asBilled { return nil }
        let size = "\(video.width)×\(video.height)"
        if verdict == .higher, let delivered {
            return finding(
                .tierMismatch, .warning, task, media: media,
                "\(task.name): \(media.path) is \(size) (\(delivered.rawValue)), above the \(billed.rawValue) billed",
                task.charge.map { .zero($0.currency) })
        }
        var amount: Money?
        var fairText = ""
        if let charge = task.charge {
            // The best priced tier the clip reaches, in the bill's currency.
            let fairRule = delivered.flatMap { reached in
                priceBook.rules(provider: task.provider, model: task.model ?? "")
                    .filter { rule in
                        (rule.tier.map { $0 <= reached } ?? false) && rule.currency == charge.currency && rule.price != nil
                    }
                    .max { $0.tier! < $1.tier! }
            }
            if let fairRule, let fair = fairRule.charge(seconds: task.billedSeconds), let tier = fairRule.tier {
                amount = Money.max(charge - fair, .zero(charge.currency))
                fairText = "; worth \(fair) at \(tier.rawValue)"
            } else {
                amount = charge
            }
        }
        return finding(
            .tierMismatch, .error, task, media: media,
            "\(task.name): billed \(billed.rawValue) but \(media.path) is \(size) (\(delivered?.rawValue ?? "below 480P"))\(fairText)",
            amount)
    }

    /// Frames against frame rate × duration: a clip that claims 30 fps for 5 s should hold 150 frames.
    public static func frameCountInconsistent(_ task: BilledTask, media: MediaInfo, options: AuditOptions) -> Finding? {
        guard let video = media.video, let count = video.frameCount, let rate = video.frameRate, rate.isValid,
            let duration = video.duration, duration > 0
        else { return nil }
        let expected = rate.doubleValue * duration
        guard abs(Double(count) - expected) > max(1, options.asBilled.toleranceFrames) else { return nil }
        return finding(
            .frameCountInconsistent, .warning, task, media: media,
            "\(task.name): \(media.path) has \(count) frames, but \(rate) fps × \(format(duration)) s is \(Int(expected.rounded()))",
            task.charge.map { .zero($0.currency) })
    }

    /// Audio against the model: wan2.5 delivers audio by default, wan2.2 none.
    public static func audio(_ task: BilledTask, media: MediaInfo) -> Finding? {
        let zero = task.charge.map { Money.zero($0.currency) }
        switch task.audio {
        case .expected where media.audio == nil:
            return finding(
                .audioMissing, .warning, task, media: media,
                "\(task.name): \(media.path) has no audio, but \(task.model ?? "the model") delivers audio", zero)
        case .none where media.audio != nil:
            return finding(
                .audioUnexpected, .warning, task, media: media,
                "\(task.name): \(media.path) has audio, but \(task.model ?? "the model") is silent: is it the right clip?",
                zero)
        default:
            return nil
        }
    }

    /// A second (third, …) charge for a task already charged at `first`.
    public static func duplicateBilling(
        _ task: BilledTask, charge: Money?, at location: RecordLocation,
        first: RecordLocation
    ) -> Finding {
        Finding(
            code: .duplicateBilling, severity: .error, taskID: task.taskID, provider: task.provider, model: task.model,
            clip: task.clip, record: location,
            message: "task \(task.taskID) billed again at \(location) (\(text(charge))), already billed at \(first)",
            overBilled: charge)
    }

    /// A billed task whose amount cannot be known: no price for its model and tier.
    public static func unpriced(_ task: BilledTask) -> Finding {
        let what = task.model.map { "\($0) at \(task.tier?.rawValue ?? "an unknown tier")" } ?? "an unknown model"
        let hint = task.model == nil ? "name the model in a manifest (task_id,path,model)" : "add its price to a price file"
        return finding(.unpriced, .warning, task, media: nil, "\(task.name): no price for \(what): \(hint)", nil)
    }

    // MARK: - Helpers

    /// The video's duration, or the container's (`AsBilledRule.deliveredSeconds`); to the millisecond.
    static func deliveredSeconds(_ media: MediaInfo) -> Decimal? {
        AsBilledRule.deliveredSeconds(of: media).map { Rounding.halfUp.round(Decimal($0), scale: 3) }
    }

    private static func finding(
        _ code: Finding.Code, _ severity: Finding.Severity, _ task: BilledTask,
        media: MediaInfo?, _ message: String, _ amount: Money?
    ) -> Finding {
        Finding(
            code: code, severity: severity, taskID: task.taskID, provider: task.provider, model: task.model,
            clip: media?.path ?? task.clip, record: task.record, message: message, overBilled: amount)
    }

    /// The media layer's message when it already names the file, else "PATH is …: message".
    private static func describe(_ problem: MediaProblem, of path: String, as verdict: String) -> String {
        problem.message.contains(path)
            ? "\(problem.message) [\(problem.code.rawValue)]"
            : "\(path) \(verdict) (\(problem.code.rawValue): \(problem.message))"
    }

    static func text(_ money: Money?) -> String { money?.description ?? "an unknown amount" }

    static func seconds(_ value: Decimal?) -> String {
        guard let value else { return "? s" }
        return "\(Rounding.halfUp.round(value, scale: 3).plainText) s"
    }

    static func format(_ value: Double) -> String {
        seconds(Decimal(value)).dropLast(2).description
    }
}
