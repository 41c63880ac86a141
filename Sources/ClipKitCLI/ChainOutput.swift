import ArgumentParser
import ClipKitConsole
import ClipKitAudit
import ClipKitChain
import ClipKitCore
import ClipKitMedia
import ClipKitProviders
import ClipKitSandbox
import Foundation

/// The machine-readable end of `clipkit chain`.
struct ChainSummary: Encodable {
    var output: String
    var frames: Int
    var duration: Double
    var segments: [Segment]
    var estimatedSpend: [Money]
    var billed: [CurrencyTotal]
    var auditErrors: Int
    var auditWarnings: Int
    var seams: [ConcatReport.Seam]
    var report: String
    var contactSheet: String

    struct Segment: Encodable {
        var index: Int
        var mode: String
        var model: String
        var clip: String?
        var tasks: [String]
        var attempts: Int
    }

    init(_ report: ChainReport) {
        output = report.output
        frames = report.concat.frames
        duration = report.concat.duration
        segments = report.segments.map {
            Segment(index: $0.plan.index + 1, mode: $0.plan.mode.rawValue, model: $0.plan.model, clip: $0.clip,
                    tasks: $0.attempts.map(\.taskID), attempts: $0.attempts.count)
        }
        estimatedSpend = report.estimatedSpend
        billed = report.audit.totals
        auditErrors = report.audit.errors
        auditWarnings = report.audit.warnings
        seams = report.concat.seams
        self.report = report.reportFile
        contactSheet = report.contactSheet
    }
}

/// One line per chain step on stderr, with the running task's state and the join's ETA.
final class ChainProgress: @unchecked Sendable {
    private let count: Int
    private let lock = NSLock()
    private let frames = ProgressLine(label: "joining: frames", total: 0)

    init(count: Int) { self.count = count }

    var report: @Sendable (ChainEvent) async -> Void { { [self] event in self.handle(event) } }

    private func handle(_ event: ChainEvent) {
        lock.withLock {
            switch event {
            case .segmentStarted(let i, let count, let mode, let model, let estimate):
                Stderr.print("segment \(i + 1)/\(count): \(mode.rawValue) with \(model)" + (estimate.map { ", about \($0)" } ?? ""))
            case .reused(let i, let clip): Stderr.print("segment \(i + 1)/\(count): done in an earlier run (\(clip))")
            case .resuming(let i, let taskID): Stderr.print("segment \(i + 1)/\(count): resuming task \(taskID) (not submitting again)")
            case .task(let i, let event):
                switch event {
                case .submitted(let taskID, _): Stderr.print("  segment \(i + 1): task \(taskID) submitted")
                case .status(let snapshot): Stderr.print("  segment \(i + 1): \(snapshot.status)")
                case .retrying(let reason, _): Stderr.print("  segment \(i + 1): retrying: \(reason)")
                case .downloaded(let info): Stderr.print("  segment \(i + 1): downloaded \(info.video?.frameCount ?? 0) frames")
                default: break
                }
            case .attemptFailed(let i, let reason, let retry):
                Stderr.print("  segment \(i + 1): attempt failed: \(reason)" + (retry ? "; trying again" : ""))
            case .accepted(let i, _): Stderr.print("  segment \(i + 1): verified")
            case .joining(let clips): Stderr.print("joining \(clips) clips (seam frames dropped, colour anchored to the first clip)")
            case .concat(let p): frames.update(p.framesDone, total: p.framesTotal, detail: "clip \(p.clip)/\(p.clips)")
            }
        }
    }

    func finish() { frames.finish() }
}
