import ArgumentParser
import ClipKitConsole
import ClipKitCore
import Foundation

/// The `clipkit` command: a root with one subcommand per file.
@main
struct ClipKit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clipkit",
        abstract: "Probe, verify, audit, extract frames from and join AI-generated video clips.",
        discussion: """
            Exit codes: 0 ok; 1 a checked property failed (verify/audit found a problem); \
            2 usage error; 3 an input could not be read; 4 an output could not be written.
            Machine-readable output goes to stdout, progress and logs to stderr.
            """,
        subcommands: [
            ProbeCommand.self, FrameCommand.self, VerifyCommand.self, ConcatCommand.self, AuditCommand.self, PricesCommand.self,
            GenerateCommand.self, SandboxCommand.self, ChainCommand.self, ServeCommand.self, WorkerCommand.self, TokenCommand.self,
        ]
    )

    /// Runs the command, mapping argument errors to exit code 2 (swift-argument-parser's default is 64).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let code as ExitCode {
            exit(withError: code)
        } catch where Failures.isReportable(error) {
            Stderr.print("clipkit: \(Failures.message(for: error))")
            Foundation.exit(Failures.exitStatus(for: error).rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                exit(withError: error)
            }
            let message = fullMessage(for: error)
            if !message.isEmpty { FileHandle.standardError.write(Data((message + "\n").utf8)) }
            // Anything swift-argument-parser rejects (bad flag, bad value, validation) is a usage error.
            Foundation.exit(code == .validationFailure ? ExitStatus.usage.rawValue : code.rawValue)
        }
    }
}

/// The documented exit codes.
enum ExitStatus: Int32 {
    case ok = 0
    /// A checked property failed: verify or audit found a problem.
    case checkFailed = 1
    /// Wrong arguments.
    case usage = 2
    /// An input could not be read (missing, empty, not media, truncated, no video).
    case inputUnreadable = 3
    /// An output could not be written: its directory is missing, it is a directory, the place is
    /// read-only or full. Not the user's arguments (2) nor a bad clip (3): the machine needs fixing.
    case outputUnwritable = 4

    var exitCode: ExitCode { ExitCode(rawValue) }
}

/// A failure the CLI itself finds (not a library error), reported in one line on stderr before exiting
/// with `status`.
struct CLIFailure: Error, CustomStringConvertible {
    var status: ExitStatus
    var description: String

    init(_ status: ExitStatus, _ description: String) {
        self.status = status
        self.description = description
    }
}
