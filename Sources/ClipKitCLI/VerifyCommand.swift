import ArgumentParser
import ClipKitArguments
import ClipKitCore
import ClipKitConsole
import ClipKitMedia
import Foundation

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check that a clip has the properties it was billed for (a pipeline post-step).",
        discussion: """
            Prints one line per failed property on stdout and exits 1 if any failed, 0 if all passed.

            Examples:
              clipkit verify clip.mp4 --tier 480P --duration 5 --fps 30 --audio no
              clipkit verify clip.mp4 --tier 720P --duration 5 --tolerance-frames 2 --deep
              clipkit verify talk.mp4 --tier 480P --audio-file voice.mp3   # s2v: as long as the voice, with it

            With --audio-file (an s2v clip and the voice it was made from) the clip must last as long as the
            voice, decoded to the sample, within --tolerance-frames either way, and carry a sound track as
            long as its video.

            Exit codes: 0 as billed; 1 a property failed; 2 bad arguments; 3 the clip could not be read.
            """
    )

    @OptionGroup var arguments: VerifyArguments

    func run() async throws {
        var voice: MediaInfo?
        if let audioFile = arguments.audioFile { voice = await MediaProbe.probeAudio(audioFile) }
        let verdict = arguments.verdict(for: await MediaProbe.probe(arguments.file, deep: arguments.deep), voice: voice)
        Stdout.write(verdict.stdout)
        FileHandle.standardError.write(Data(verdict.stderr.utf8))
        if verdict.status != 0 { throw ExitCode(verdict.status) }
    }
}
