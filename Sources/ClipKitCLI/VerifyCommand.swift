import ArgumentParser
import ClipKitConsole
import ClipKitCore
import ClipKitMedia

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check that a clip has the properties it was billed for (a pipeline post-step).",
        discussion: """
            Prints one line per failed property on stdout and exits 1 if any failed, 0 if all passed.

            Examples:
              clipkit verify clip.mp4 --tier 480P --duration 5 --fps 30 --audio no
              clipkit verify clip.mp4 --tier 720P --duration 5 --tolerance-frames 2 --deep

            Exit codes: 0 as billed; 1 a property failed; 2 bad arguments; 3 the clip could not be read.
            """
    )

    @Argument(help: "The clip to check.")
    var file: String

    @Option(help: "Billed resolution tier: 480P, 720P or 1080P.", transform: { text in
        guard let tier = Tier(parsing: text) else { throw ValidationError("--tier must be 480P, 720P or 1080P, not '\(text)'") }
        return tier
    })
    var tier: Tier?

    @Option(help: "Billed duration in seconds.")
    var duration: Double?

    @Option(help: "Frames the clip may be shorter than --duration (a longer clip passes).")
    var toleranceFrames = 1.0

    @Option(help: "Expected frame rate.")
    var fps: Double?

    @Option(help: "Whether the clip must have audio: yes or no.")
    var audio: YesNo?

    @Flag(help: "Decode every frame too, to catch corrupt data behind a good header.")
    var deep = false

    enum YesNo: String, ExpressibleByArgument {
        case yes, no
    }

    func validate() throws {
        if tier == nil, duration == nil, fps == nil, audio == nil {
            throw ValidationError("nothing to verify: give at least one of --tier, --duration, --fps, --audio")
        }
        if let duration, duration <= 0 { throw ValidationError("--duration must be positive") }
        if toleranceFrames < 0 { throw ValidationError("--tolerance-frames must be 0 or more") }
    }

    func run() async throws {
        let info = MediaProbe.probe(file, deep: deep)
        if let error = info.error, info.video == nil {
            Stderr.print("clipkit: \(error.message) [\(error.code.rawValue)]")
            throw ExitStatus.inputUnreadable.exitCode
        }
        let requirements = ClipRequirements(tier: tier, duration: duration, rule: AsBilledRule(toleranceFrames: toleranceFrames),
                                            fps: fps, audio: audio.map { $0 == .yes })
        let failures = requirements.failures(of: info)
        guard failures.isEmpty else {
            Stdout.write(failures.map { "\(file): \($0)\n" }.joined())
            throw ExitStatus.checkFailed.exitCode
        }
        Stderr.print("\(file): ok")
    }
}
