import ArgumentParser
import ClipKitCore

/// The arguments of `clipkit verify` and what it prints for a probed clip, shared by the launcher
/// (which answers ordinary MP4s itself) and the engine (the reference for everything else).
public struct VerifyArguments: ParsableArguments {
    @Argument(help: "The clip to check.")
    public var file: String

    @Option(help: "Billed resolution tier: 480P, 720P or 1080P.", transform: { text in
        guard let tier = Tier(parsing: text) else { throw ValidationError("--tier must be 480P, 720P or 1080P, not '\(text)'") }
        return tier
    })
    public var tier: Tier?

    @Option(help: "Billed duration in seconds.")
    public var duration: Double?

    @Option(help: "Frames the clip may be shorter than --duration (a longer clip passes).")
    public var toleranceFrames = 1.0

    @Option(help: "Expected frame rate.")
    public var fps: Double?

    @Option(help: "Whether the clip must have audio: yes or no.")
    public var audio: YesNo?

    @Option(help: "s2v: the voice the clip was made from; the clip must be as long as it and carry it.")
    public var audioFile: String?

    @Flag(help: "Decode every frame too, to catch corrupt data behind a good header.")
    public var deep = false

    public enum YesNo: String, ExpressibleByArgument, Sendable {
        case yes, no
    }

    public init() {}

    public func validate() throws {
        if tier == nil, duration == nil, fps == nil, audio == nil, audioFile == nil {
            throw ValidationError("nothing to verify: give at least one of --tier, --duration, --fps, --audio, --audio-file")
        }
        if audioFile != nil, duration != nil { throw ValidationError("--audio-file sets the duration: give one or the other") }
        if audioFile != nil, audio == .no { throw ValidationError("--audio-file needs the clip's audio: drop --audio no") }
        if let problem = ClipRequirements.problem(duration: duration, fps: fps, toleranceFrames: toleranceFrames,
                                                  names: ("--duration", "--fps", "--tolerance-frames")) {
            throw ValidationError(problem)
        }
    }

    /// What the clip must satisfy; `voiceSeconds` is the decoded length of `--audio-file`.
    public func requirements(voiceSeconds: Double? = nil) -> ClipRequirements {
        var requirements = ClipRequirements(tier: tier, duration: duration, toleranceFrames: toleranceFrames, fps: fps,
                                            audio: audio.map { $0 == .yes })
        if let voiceSeconds { requirements.requireVoice(seconds: voiceSeconds) }
        return requirements
    }

    /// What verify prints and its exit code: 0 as billed ("FILE: ok" on stderr), 1 a property failed
    /// (one line each on stdout), 3 the clip could not be read (the reason on stderr).
    /// - Parameter voice: the probe of `--audio-file` (only the engine decodes it).
    public func verdict(for info: MediaInfo, voice: MediaInfo? = nil) -> (stdout: String, stderr: String, status: Int32) {
        if let error = info.error, info.video == nil {
            return ("", "clipkit: \(error.message) [\(error.code.rawValue)]\n", 3)
        }
        var voiceSeconds: Double?
        if let audioFile {
            guard let voice, voice.error == nil, let seconds = voice.audio?.duration else {
                return ("", "clipkit: \(voice?.error?.message ?? "\(audioFile): no sound") [\(voice?.error?.code.rawValue ?? "noAudio")]\n", 3)
            }
            voiceSeconds = seconds
        }
        let failures = requirements(voiceSeconds: voiceSeconds).failures(of: info)
        guard failures.isEmpty else { return (failures.map { "\(file): \($0)\n" }.joined(), "", 1) }
        return ("", "\(file): ok\n", 0)
    }
}
