import ClipKitAudit
@testable import ClipKitCLI
@testable import ClipKitChain
import ClipKitCore
@testable import ClipKitMedia
import ClipKitProviders
import ClipKitSandbox
import ClipKitTestSupport
import Foundation
import Testing

/// One status per error, in every command: `Failures.exitStatus(for:)` is the only mapping, and the
/// flag hints are added there, never by the library.
@Suite("exit statuses and hints")
struct ExitStatusTests {
    @Test("a bad or missing price file exits 3 in audit, prices and chain alike")
    func priceFile() throws {
        let broken = try Fixtures.shared.file("exit-broken-prices.json", bytes: Array("{\"rules\": [\n  {\"provider\": }\n]}".utf8))
        let board = Samples.root + "/samples/storyboard.json"
        for prices in [broken, "/no/such/prices.json"] {
            let runs = [
                try clipkit("prices", "--prices", prices),
                try clipkit("audit", "--records", Samples.root + "/samples/records", "--clips", Samples.root + "/samples",
                            "--prices", prices),
                try clipkit("chain", board, "-o", Fixtures.shared.scratch("exit-plan.mp4"), "--dry-run", "--prices", prices),
            ]
            for run in runs {
                #expect(run.status == 3, "\(prices): \(run.stderr)")
                #expect(run.stderr.contains("clipkit: price file \(prices)"), "\(run.stderr)")
            }
        }
        #expect(try clipkit("prices", "--prices", broken).stderr.contains("exit-broken-prices.json:2: not valid JSON"))
    }

    @Test("library errors map by code; CLI hints name the flag, library messages never do")
    func mapping() {
        let cases: [(any Error, ClipKitCLI.ExitStatus, String?)] = [
            (OutputFileError.exists("out.png"), .usage, "use --force to overwrite"),
            (OutputFileError.unwritable("out.png", call: "write", reason: "No space left on device"), .outputUnwritable, nil),
            (MediaProblem(.truncated, "clip.mp4: cut short"), .inputUnreadable, nil),
            (FFmpegError(code: -1, function: "avcodec_open2", target: "clip.mp4"), .inputUnreadable, nil),
            (ConcatError(.noFrameRate, "a.mp4 has no frame rate to set the output's", path: "a.mp4"), .inputUnreadable,
             "give one with --fps"),
            (ConcatError(.copyImpossible, "the clips cannot be joined by copying packets: sizes differ"), .usage,
             "--reencode auto allows a re-encode"),
            (ConcatError(.inputUnreadable, "cannot read b.mp4", path: "b.mp4"), .inputUnreadable, nil),
            (PriceBookError(.invalidRule, file: "p.json", line: 4, message: "rule 2: missing \"currency\""), .inputUnreadable, nil),
            (ChainError(.budgetExceeded, "segment 2 would bring the spend over the budget"), .checkFailed,
             "run again with a larger --budget to continue"),
            (ChainError(.unpriced, "segment 1: no price"), .checkFailed, "give its price with --prices"),
            (ChainError(.workDirectoryInUse, "w holds another chain"), .usage, "use a new --work directory"),
            (ChainError(.stateUnreadable, "cannot read the chain state w/chain.json"), .inputUnreadable, nil),
            (ProviderError.missingAPIKey(provider: "dashscope", variable: "DASHSCOPE_API_KEY"), .usage, nil),
            (ProviderError.imageUnreadable(provider: "dashscope", image: "a.png", "cannot read it"), .inputUnreadable, nil),
            (ProviderError.recordUnreadable(path: "a.task.json", "bad JSON"), .inputUnreadable, nil),
            (ProviderError.taskFailed(provider: "dashscope", taskID: "t", status: "FAILED", code: nil, message: nil),
             .checkFailed, nil),
            (SandboxError("faults file f.json is not a JSON object", code: .invalidFaults), .usage, nil),
            (SandboxError("cannot listen on 127.0.0.1:1", code: .cannotStart), .inputUnreadable, nil),
            (FrameRangeError(code: .noSuchIndex, description: "clip.mp4 has 150 frames"), .usage, nil),
        ]
        for (error, status, hint) in cases {
            #expect(Failures.exitStatus(for: error) == status, "\(error)")
            #expect(Failures.hint(for: error) == hint, "\(error)")
            #expect(Failures.isReportable(error))
            #expect(!"\(error)".contains("--"), "a library message names a flag: \(error)")
            if let hint { #expect(Failures.message(for: error) == "\(error) (\(hint))") }
        }
        #expect(Failures.exitStatus(for: CancellationError()) == .checkFailed)
        #expect(!Failures.isReportable(CancellationError()))
    }
}
