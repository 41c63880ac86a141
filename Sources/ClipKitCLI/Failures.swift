import ArgumentParser
import ClipKitAudit
import ClipKitChain
import ClipKitCore
import ClipKitLedger
import ClipKitMedia
import ClipKitProviders
import ClipKitSandbox
import ClipKitServer
import ClipKitService

/// The one place the CLI turns an error into its documented exit status and, where one of its flags
/// would change the outcome, a hint naming the flag. Library errors carry a code and a message that
/// names no flag; every command reports them through here (see `ClipKit.main`).
enum Failures {
    /// 0 ok; 1 a checked property failed or the run did not finish (rerun to resume); 2 usage;
    /// 3 an input could not be read; 4 an output could not be written.
    static func exitStatus(for error: any Error) -> ExitStatus {
        switch error {
        case let failure as CLIFailure: return failure.status
        case is MediaProblem, is FFmpegError, is PriceBookError, is RecordsUnreadable: return .inputUnreadable
        case is FrameRangeError, is ImageError, is ValidationError: return .usage
        case let error as OutputFileError:
            // An existing output without --force is a usage error; anything else is a place that cannot take the file.
            return error.code == .exists ? .usage : .outputUnwritable
        case let error as ConcatError:
            switch error.code {
            case .noInputs, .invalidOptions, .copyImpossible: return .usage
            case .inputUnreadable, .noFrameRate, .undecodable: return .inputUnreadable
            }
        case let error as StoryboardError:
            return error.code == .invalid ? .usage : .inputUnreadable
        case let error as ChainError:
            switch error.code {
            case .workDirectoryInUse: return .usage
            case .stateUnreadable: return .inputUnreadable
            case .budgetExceeded, .unpriced, .currencyMismatch, .attemptsExhausted, .missingLastFrame: return .checkFailed
            }
        case let error as ProviderError:
            switch error.code {
            case .missingAPIKey, .configUnreadable, .invalidRequest, .modeUnsupported: return .usage
            case .imageUnreadable, .audioUnreadable, .recordUnreadable: return .inputUnreadable
            default: return .checkFailed
            }
        case let error as SandboxError:
            switch error.code {
            case .invalidFaults: return .usage
            case .cannotStart: return .inputUnreadable
            case .injectedFault, .failed: return .checkFailed
            }
        case let error as LedgerError:
            return error.code == .badLocation ? .usage : .inputUnreadable
        case is ServerError: return .inputUnreadable
        case let error as DataDirectoryError: return error.code == .unwritable ? .outputUnwritable : .usage
        default: return .checkFailed
        }
    }

    /// What to pass to change the outcome, for the errors a flag can fix.
    static func hint(for error: any Error) -> String? {
        switch error {
        case let error as OutputFileError where error.code == .exists: "use --force to overwrite"
        case let error as ConcatError where error.code == .noFrameRate: "give one with --fps"
        case let error as ConcatError where error.code == .copyImpossible: "--reencode auto allows a re-encode"
        case let error as ChainError:
            switch error.code {
            case .workDirectoryInUse: "use a new --work directory"
            case .unpriced: "give its price with --prices"
            case .budgetExceeded: "run again with a larger --budget to continue"
            case .currencyMismatch: "give --budget in the segment's currency"
            case .attemptsExhausted: "--max-attempts allows more"
            case .stateUnreadable, .missingLastFrame: nil
            }
        default: nil
        }
    }

    /// The error's message with its hint, as printed after "clipkit: ".
    static func message(for error: any Error) -> String {
        let text = "\(error)"
        return hint(for: error).map { "\(text) (\($0))" } ?? text
    }

    /// True for the errors `message(for:)` and `exitStatus(for:)` speak for; the rest (argument
    /// parsing, `--help`) are swift-argument-parser's.
    static func isReportable(_ error: any Error) -> Bool {
        error is CLIFailure || error is any ClipKitError || error is LedgerError || error is ServerError
    }
}
