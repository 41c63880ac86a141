import ArgumentParser
import ClipKitArguments
import ClipKitConsole
import ClipKitCore
import ClipKitMedia
import Foundation

struct ProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Report what clips really contain: tier, duration, exact frame count, fps, audio.",
        discussion: """
            Reads the container header only (no decoding) unless --deep is given. Frame counts leave out
            samples an edit list hides; fragmented MP4s are counted from packet headers.

            Examples:
              clipkit probe clip.mp4
              clipkit probe downloads/*.mp4 --format jsonl > probes.jsonl
              clipkit probe suspicious.mp4 --deep --format json
              clipkit probe "https://bucket.example.com/clip.mp4?X-Amz-Signature=…"

            An http(s) URL is read where it lies: a few Range requests for the index and the first
            picture's start, the same answer as for the downloaded file; a server without Range, or a clip
            that is not an ordinary MP4, is downloaded to a temporary file first. An expired presigned URL
            is notMedia ("the URL has expired"); messages print URLs without their query.

            Exit codes: 0 every input probed; 3 at least one input could not be read (its object has
            "error": {"code": notFound|empty|notMedia|truncated|noVideo|unreadable, "message": …}).
            """
    )

    @OptionGroup var arguments: ProbeArguments

    func run() async throws {
        let (files, format, deep) = (arguments.files, arguments.format, arguments.deep)
        let progress = files.count > 20 ? ProgressLine(label: "probed", total: files.count) : nil
        let infos = try await MediaProbe.probeAll(files, deep: deep) { done, _ in progress?.update(done) }
        progress?.finish()
        Stdout.write(try format.render(infos))
        for info in infos where info.error != nil {
            Stderr.print("clipkit: \(info.error!.message) [\(info.error!.code.rawValue)]")
        }
        if infos.contains(where: { $0.error != nil }) { throw ExitStatus.inputUnreadable.exitCode }
    }
}
